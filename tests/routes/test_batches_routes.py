"""Batch pages: the revision gate answered on the form, and the scaled BOM shown; the form
offered only to those who may create, opened with the nominal size, checked before creating;
a planned batch cancelled with a reason."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from sqlmodel import Session, select

from app.models import Batch, ExcessIssueApproval
from app.services.accounts.auth import find_user
from app.services.demo import seed_demo
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from app.services.mbr import revisions
from app.services.mbr.revisions import HeaderIn
from app.services.warehouse import issuing
from app.services.warehouse.issuing import IssueIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM, count
from tests.routes.conftest import Browser


def test_supervisor_creates_a_batch_and_the_revision_gate_holds(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    revisions.create_recipe(
        session, actor=find_user(session, "ada"), code="NEW-1", name="Draft only",
        header=HeaderIn("10", "kg"), clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    sam = signed_in("supervisor")

    refused = sam.post("/batches/", {"recipe": "NEW-1", "batch_no": "N-1", "planned": "10"})
    assert refused.status_code == 422
    assert "NEW-1 has no effective master batch record" in refused.get_data(as_text=True)
    assert count(session, Batch) == 0

    made = sam.post(
        "/batches/", {"recipe": "VC500", "batch_no": "VC500-26-0042", "planned": "100000"}
    )
    assert made.status_code == 302
    page = sam.client.get("/batches/VC500-26-0042").get_data(as_text=True)
    assert "VC500 rev B" in page
    assert "55.000 kg" in page


def test_operators_cannot_create_batches(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    refused = signed_in("operator").post(
        "/batches/", {"recipe": "VC500", "batch_no": "B-1", "planned": "1"}
    )
    assert refused.status_code == 403


def test_planned_quantities_are_shown_grouped_with_their_unit(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    sam = signed_in("supervisor")
    sam.post("/batches/", {"recipe": "VC500", "batch_no": "VC500-26-0042", "planned": "100000"})

    listed = sam.client.get("/batches/").get_data(as_text=True)
    assert "VC500-26-0042</strong>&nbsp;100,000 tablets" in listed
    assert "100000" not in listed
    page = sam.client.get("/batches/VC500-26-0042").get_data(as_text=True)
    assert "· 100,000 tablets" in page
    assert "55.000 kg" in page  # a weighed quantity is kept to the gram
    assert session.exec(select(Batch)).one().planned_quantity == 100000  # stored as it was


def test_a_supervisor_approves_an_excess_issue_on_the_batch_page(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    batches.create_batch(
        session, actor=find_user(session, "sam"), new=BatchIn("VC500", "VC500-26-0042", "100000"),
        clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    sam = signed_in("supervisor")
    page = sam.client.get("/batches/VC500-26-0042").get_data(as_text=True)
    assert "Approve an excess issue" in page

    form = {"material": "RM-MGS", "quantity": "0.100", "key": uuid.uuid4().hex}
    refused = sam.post("/batches/VC500-26-0042/excess-approvals", {**form, "reason": ""})
    assert refused.status_code == 422
    assert (
        '<p class="field-error" id="reason-error">Give a reason; it is kept in the audit trail.'
        in refused.get_data(as_text=True)
    )
    assert count(session, ExcessIssueApproval) == 0

    done = sam.post("/batches/VC500-26-0042/excess-approvals", {**form, "reason": "Spilled"})
    assert done.status_code == 302
    page = sam.client.get("/batches/VC500-26-0042").get_data(as_text=True)
    assert "0.100 kg of RM-MGS excess approved by Supervisor1 Tester: Spilled" in page


def test_only_supervisors_approve_an_excess_issue(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    batches.create_batch(
        session, actor=find_user(session, "sam"), new=BatchIn("VC500", "VC500-26-0042", "100000"),
        clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    walt = signed_in("warehouse")
    assert "Approve an excess issue" not in walt.client.get("/batches/VC500-26-0042").get_data(
        as_text=True
    )
    refused = walt.post(
        "/batches/VC500-26-0042/excess-approvals",
        {"material": "RM-MGS", "quantity": "0.1", "reason": "More", "key": uuid.uuid4().hex},
    )
    assert refused.status_code == 403
    assert count(session, ExcessIssueApproval) == 0


# --- New batch: only for those who may, nominal size, check then create (issue 12 points 7, 9) --


def test_the_new_batch_form_is_offered_only_to_those_who_may_create(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    operator = signed_in("operator")
    page = operator.client.get("/batches/").get_data(as_text=True)
    assert "New batch" not in page
    assert 'action="/batches/check"' not in page
    operator.post("/logout")
    sam = signed_in("supervisor")
    page = sam.client.get("/batches/").get_data(as_text=True)
    assert "<summary>New batch</summary>" in page
    assert 'action="/batches/check"' in page


def test_choosing_a_product_fills_in_its_nominal_batch(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    sam = signed_in("supervisor")
    page = sam.client.get("/batches/?recipe=VC500").get_data(as_text=True)
    assert '<details class="card" open id="new-batch">' in page
    assert 'name="planned" value="100000"' in page
    assert "nominal batch of VC500 rev B: 100,000 tablets" in page
    # The select asks for the form alone (htmx), with what was typed, but not the old quantity.
    fragment = sam.client.get(
        "/batches/?recipe=FS-200&batch_no=FS200-26-0007&customer_po=PO-5512",
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<form method="post" action="/batches/check"')
    assert 'name="planned" value="10"' in fragment
    assert 'inputmode="numeric"' in fragment  # pieces are whole
    assert 'name="batch_no" value="FS200-26-0007"' in fragment
    assert 'name="customer_po" value="PO-5512"' in fragment
    assert 'hx-params="not csrf_token,planned"' in fragment


def test_check_shows_the_scaled_bom_before_the_batch_is_created(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    sam = signed_in("supervisor")
    form = {"recipe": "VC500", "batch_no": "vc500-26-0042", "planned": "37000",
            "customer_po": "", "due_date": ""}  # fmt: skip

    checked = sam.post("/batches/check", form)
    assert checked.status_code == 200
    page = checked.get_data(as_text=True)
    assert "Check, then create" in page
    assert (
        '<li data-material="RM-MGS"><strong class="code">RM-MGS</strong> Magnesium stearate'
        "<br><strong>0.185 kg</strong> ±2 % · step 40</li>" in page
    )
    assert "20.350 kg" in page
    assert "37,000 tablets" in page
    assert '<input type="hidden" name="batch_no" value="VC500-26-0042">' in page
    assert count(session, Batch) == 0

    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
    made = sam.post("/batches/", {k: v for k, v in hidden.items() if k != "csrf_token"})
    assert made.status_code == 302
    assert made.headers["Location"].endswith("/batches/VC500-26-0042")
    assert session.exec(select(Batch)).one().planned_quantity == 37000


def test_refusals_of_the_check_are_beside_their_fields_and_keep_what_was_typed(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    sam = signed_in("supervisor")
    form = {"recipe": "VC500", "batch_no": "VC500-26-0042", "customer_po": "PO-5512",
            "due_date": "2026-12-15"}  # fmt: skip
    for planned, message in {
        "1000.5": "The quantity is counted in tablets: a whole number.",
        "100": "RM-MGS would need 0.0005 kg, which cannot be weighed to ±2 % in steps of "
        "0.001 kg; choose a larger batch.",
    }.items():
        refused = sam.post("/batches/check", {**form, "planned": planned})
        assert refused.status_code == 422
        page = refused.get_data(as_text=True)
        assert f'<p class="field-error" id="planned-error">{message}</p>' in page
        assert f'name="planned" value="{planned}"' in page
        assert 'name="batch_no" value="VC500-26-0042"' in page
        assert 'name="customer_po" value="PO-5512"' in page
        assert 'name="due_date" value="2026-12-15"' in page
        assert '<option value="VC500" selected>' in page
    assert count(session, Batch) == 0


def test_a_refused_creation_gives_the_form_back_as_typed(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    sam = signed_in("supervisor")
    form = {"recipe": "VC500", "batch_no": "VC500-26-0042", "planned": "100000"}
    assert sam.post("/batches/", form).status_code == 302
    refused = sam.post("/batches/", {**form, "customer_po": "PO-1"})  # someone was quicker
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert '<p class="field-error" id="batch_no-error">Batch VC500-26-0042 already exists.' in page
    assert 'name="customer_po" value="PO-1"' in page
    assert 'name="planned" value="100000"' in page


# --- Cancelling a planned batch (issue 12 point 9) ------------------------------------------


def test_a_supervisor_cancels_a_planned_batch_and_it_leaves_the_pick_list(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    batches.create_batch(
        session, actor=find_user(session, "sam"), new=BatchIn("VC500", "VC500-26-0042", "100000"),
        clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    walt = signed_in("warehouse")
    assert "Cancel this batch" not in walt.client.get("/batches/VC500-26-0042").get_data(
        as_text=True
    )
    assert 'value="VC500-26-0042"' in walt.client.get("/lots/pick").get_data(as_text=True)
    refused = walt.post("/batches/VC500-26-0042/cancel", {"reason": "Wrong"})
    assert refused.status_code == 403
    walt.post("/logout")

    sam = signed_in("supervisor")
    assert "Cancel this batch" in sam.client.get("/batches/VC500-26-0042").get_data(as_text=True)
    refused = sam.post("/batches/VC500-26-0042/cancel", {"reason": ""})
    assert refused.status_code == 422
    assert (
        '<p class="field-error" id="reason-error">Give a reason; it is kept in the audit trail.'
        in refused.get_data(as_text=True)
    )
    assert session.exec(select(Batch)).one().status == "planned"

    done = sam.post("/batches/VC500-26-0042/cancel", {"reason": "Planned twice"})
    assert done.status_code == 302
    page = sam.client.get("/batches/VC500-26-0042").get_data(as_text=True)
    assert "Cancelled by Supervisor" in page
    assert ": Planned twice</p>" in page
    assert "Cancel this batch" not in page
    assert "Pick its materials" not in page
    assert '<span class="badge">Cancelled</span>' in sam.client.get("/batches/").get_data(
        as_text=True
    )
    sam.post("/logout")

    walt = signed_in("warehouse")
    assert 'value="VC500-26-0042"' not in walt.client.get("/lots/pick").get_data(as_text=True)
    picked = walt.client.get("/lots/pick?batch_no=VC500-26-0042")
    assert picked.status_code == 422
    said = "Batch VC500-26-0042 was cancelled (Planned twice); nothing is picked or issued for it."
    assert said in picked.get_data(as_text=True)
    issued = walt.post(
        "/lots/issue",
        {"batch_no": "VC500-26-0042", "lot": "MGS-2610-01", "quantity": "0.1",
         "key": uuid.uuid4().hex},
    )  # fmt: skip
    assert issued.status_code == 422
    assert f'<p class="field-error" id="batch_no-error">{said}</p>' in issued.get_data(as_text=True)


def test_a_batch_holding_material_says_why_it_cannot_be_cancelled(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    batches.create_batch(
        session, actor=find_user(session, "sam"), new=BatchIn("VC500", "VC500-26-0042", "100000"),
        clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    issuing.issue(
        session, actor=find_user(session, "walt"),
        new=IssueIn("MGS-2610-01", "0.300", "VC500-26-0042", "", uuid.uuid4().hex), clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    sam = signed_in("supervisor")
    page = sam.client.get("/batches/VC500-26-0042").get_data(as_text=True)
    said = "holds material issued to it (0.300 kg of lot MGS-2610-01)"
    assert said in page
    assert 'action="/batches/VC500-26-0042/cancel"' not in page  # no form it would refuse
    refused = sam.post("/batches/VC500-26-0042/cancel", {"reason": "Planned twice"})
    assert refused.status_code == 422
    assert said in refused.get_data(as_text=True)
