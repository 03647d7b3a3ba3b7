"""The executed record over HTTP (issue 13 points 1, 2 and 6, first slice): the supervisor starts
and holds a batch from its page, a refusal beside its field; each step has its page with its
instruction and the one signature it waits for; the operator's home names the batch and step."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlmodel import Session

from app.models import Batch
from app.services.accounts.auth import find_user
from app.services.demo import DEMO_PASSWORD
from app.services.execution import batches, record
from app.services.execution.batches import BatchIn
from tests.clock import CLOCK
from tests.conftest import audit_actions
from tests.floor import BATCH, _able_to_sign, plant_with_a_tea_batch
from tests.routes.conftest import Browser


def test_the_supervisor_starts_and_holds_the_batch_from_its_page(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    plant_with_a_tea_batch(session)
    operator = signed_in("operator")
    assert operator.post(f"/batches/{BATCH}/started").status_code == 403
    operator.post("/logout")
    sam = signed_in("supervisor")
    page = sam.client.get(f"/batches/{BATCH}").get_data(as_text=True)
    assert "Start batch" in page
    started = sam.post(f"/batches/{BATCH}/started")
    assert started.status_code == 302
    page = sam.client.get(f"/batches/{BATCH}").get_data(as_text=True)
    assert f"Batch {BATCH} started." in page
    assert 'id="step-10"' in page
    assert "Put on hold" in page
    refused = sam.post(f"/batches/{BATCH}/held", {"reason": ""})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert '<p class="field-error" id="reason-error">Give a reason' in html
    assert sam.post(f"/batches/{BATCH}/held", {"reason": "Alarm"}).status_code == 302
    assert sam.post(f"/batches/{BATCH}/paused", {"reason": "x"}).status_code == 404


def test_a_step_page_shows_its_instruction_and_the_signature_it_waits_for(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    batch: Batch = plant_with_a_tea_batch(session)
    sam = signed_in("supervisor")
    sam.post(f"/batches/{BATCH}/started")
    page = sam.client.get(f"/batches/{BATCH}/steps/20").get_data(as_text=True)
    assert "Blend for 10 minutes." in page
    assert "Step 10 “Line clearance” is not done yet — finish it before starting step 20." in page
    assert "Sign: performed" in page
    assert sam.client.get(f"/batches/{BATCH}/steps/99").status_code == 404
    home = sam.client.get("/").get_data(as_text=True)
    need = home[home.index('id="need-floor">') + 17 :].split("</li>")[0]
    words = " ".join(re.sub(r"<[^>]+>", " ", need).split())
    assert words == f"1 batch is on the floor {BATCH}: step 10 Line clearance"
    assert f'href="/batches/{BATCH}/steps/10"' in need  # one tap continues at the step
    assert record.next_step(record.steps(session, batch)).step.code == "10"  # type: ignore[union-attr]


def test_equipment_scanned_at_a_step_is_refused_beside_the_field_or_recorded(
    browser: Browser, session: Session
) -> None:
    """Story 1 step 5 over HTTP: BL-01's overdue calibration refused in place (422, the scan
    kept, the reason beside the field); BL-02 recorded with the facts it passed on."""
    plant_with_a_tea_batch(session)
    sam = find_user(session, "sam")
    vc = batches.create_batch(
        session, actor=sam, new=BatchIn("VC500", "VC500-26-0042", "100000"), clock=CLOCK
    )  # type: ignore[arg-type]
    record.move_batch(
        session, actor=sam, batch_no=vc.batch_no, move="started", reason="", clock=CLOCK
    )  # type: ignore[arg-type]
    _able_to_sign(session, "olivia")
    assert browser.login("olivia", DEMO_PASSWORD).status_code == 302
    olivia = browser
    refused = olivia.post(
        "/batches/VC500-26-0042/steps/10/equipment", {"equipment": "BL-01", "key": "k-1"}
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="equipment-error">BL-01: calibration' in html
    assert 'aria-invalid="true"' in html and 'value="BL-01"' in html
    recorded = olivia.post(
        "/batches/VC500-26-0042/steps/10/equipment", {"equipment": "bl-02", "key": "k-1"}
    )
    assert recorded.status_code == 302
    page = olivia.client.get("/batches/VC500-26-0042/steps/10").get_data(as_text=True)
    assert "BL-02 recorded: every check passed." in page
    entry = page[page.index('id="step-equipment"') :].split("</section>")[0]
    assert "BL-02" in entry and "calibration due" in entry
    assert 'name="key" value="k-1"' in html  # the refused form kept its key


def test_a_floor_form_sent_twice_records_once_and_a_form_without_its_key_is_stale(
    browser: Browser, session: Session
) -> None:
    """Issue 13 point 12: a double tap (or a retry after a dropped answer) on "Record manual
    weight" records one weighing, not two that would count twice against the band."""
    plant_with_a_tea_batch(session)
    sam = find_user(session, "sam")
    vc = batches.create_batch(
        session, actor=sam, new=BatchIn("VC500", "VC500-26-0042", "100000"), clock=CLOCK
    )  # type: ignore[arg-type]
    record.move_batch(
        session, actor=sam, batch_no=vc.batch_no, move="started", reason="", clock=CLOCK
    )  # type: ignore[arg-type]
    _able_to_sign(session, "olivia")
    assert browser.login("olivia", DEMO_PASSWORD).status_code == 302
    step = "/batches/VC500-26-0042/steps"
    form = {"equipment": "BL-02", "key": "k-eq"}

    def kept() -> int:
        page = browser.client.get(f"{step}/10").get_data(as_text=True)
        return page.count('<strong class="code">BL-02</strong>')

    assert browser.post(f"{step}/10/equipment", form).status_code == 302
    assert kept() == 1
    assert browser.post(f"{step}/10/equipment", form).status_code == 302  # sent again
    assert kept() == 1
    stale = browser.post(f"{step}/10/equipment", {"equipment": "BL-02", "key": ""})
    assert stale.status_code == 422
    assert "This form is stale" in stale.get_data(as_text=True)
    assert audit_actions(session, action="step.equipment_recorded") == ["step.equipment_recorded"]
