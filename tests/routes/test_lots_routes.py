"""Lot pages over HTTP: who may receive, a scan refused in place (htmx 422 partial), a stale
form without its key, gates at issue, QA's decisions offered by status."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from app.models import AuditEvent, Lot, User
from app.services.accounts.auth import find_user
from app.services.demo import master as demo_master
from app.services.demo import seed_demo
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from app.services.warehouse import ledger, receipt
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM, count
from tests.food import food_plant
from tests.routes.conftest import Browser

RECEIPT = {
    "material": "RM-ASC",
    "supplier": "SUP-NORTHBRIDGE",
    "supplier_lot": "S-88231",
    "quantity": "25",
    "containers": "1",
    "expiry": "2028-05-31",
}


def _lot(session: Session, make_user: Callable[..., User]) -> Lot:
    """A quarantined lot, and batch VC500-26-0042 planned in the demo plant."""
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    batches.create_batch(
        session,
        actor=find_user(session, "sam"),  # type: ignore[arg-type]
        new=BatchIn("VC500", "VC500-26-0042", "100000"),
        clock=CLOCK,
    )
    walt = find_user(session, "walt")
    lot, _ = receipt.receive(
        session,
        actor=walt,  # type: ignore[arg-type]
        new=ReceiptIn("RM-ASC", "SUP-NORTHBRIDGE", "S-1", "10", date(2028, 1, 1), key="k1"),
        clock=CLOCK,
    )
    return lot


def test_only_warehouse_receives(signed_in: Callable[..., Browser], session: Session) -> None:
    demo_master.seed_master_data(session, actor=SYSTEM, clock=CLOCK)
    refused = signed_in("operator").post("/lots/receive", {**RECEIPT, "key": uuid.uuid4().hex})
    assert refused.status_code == 403
    assert count(session, Lot) == 0


def test_a_bad_scan_is_answered_in_place(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    demo_master.seed_master_data(session, actor=SYSTEM, clock=CLOCK)
    walt = signed_in("warehouse")
    answer = walt.post("/lots/receive/scan", {"scan": "0104012345000017"}, htmx=True)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert html.lstrip().startswith('<div id="receipt"')  # the partial, not a page
    assert (
        '<p class="field-error" id="scan-error">The GTIN 04012345000017 has a wrong check digit '
        "(7; it should be 6): the barcode is damaged or mistyped. Scan it again.</p>"
    ) in html

    filled = walt.post("/lots/receive/scan", {"scan": "0104012345000016"}, htmx=True)
    assert filled.status_code == 200
    assert '<option value="RM-ASC" selected>' in filled.get_data(as_text=True)


def test_a_digital_link_scan_fills_the_receipt_like_the_element_string(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    demo_master.seed_master_data(session, actor=SYSTEM, clock=CLOCK)
    walt = signed_in("warehouse")
    link = "https://example.com/01/04012345000016/10/S-88231?17=280531&3102=002500"
    filled = walt.post("/lots/receive/scan", {"scan": link}, htmx=True)
    html = filled.get_data(as_text=True)
    assert filled.status_code == 200
    assert '<option value="RM-ASC" selected>' in html
    assert 'value="S-88231"' in html
    assert 'value="2028-05-31"' in html
    assert 'value="25.00"' in html
    assert 'value="04012345000016"' in html  # the GTIN travels on to the receipt

    other = walt.post("/lots/receive/scan", {"scan": "https://example.com/about"}, htmx=True)
    assert other.status_code == 422
    assert "is not a GS1 Digital Link" in other.get_data(as_text=True)


def test_a_lot_page_shows_grouped_quantities_and_forms_prefill_plain_numbers(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    batches.create_batch(
        session,
        actor=find_user(session, "sam"),  # type: ignore[arg-type]
        new=BatchIn("VC500", "VC500-26-0042", "100000"),
        clock=CLOCK,
    )
    lot, _ = receipt.receive(
        session,
        actor=find_user(session, "walt"),  # type: ignore[arg-type]
        new=ReceiptIn("RM-ASC", "SUP-NORTHBRIDGE", "S-2", "12500.50", date(2028, 1, 1), key="k"),
        clock=CLOCK,
    )
    walt = signed_in("warehouse")
    page = walt.client.get(f"/lots/{lot.lot_code}").get_data(as_text=True)
    assert '<dd id="lot-balance"><strong>12,500.50 kg</strong></dd>' in page
    assert "<td>12,500.50 kg</td>" in page  # the receipt movement

    picking = walt.client.get("/lots/pick?batch_no=VC500-26-0042").get_data(as_text=True)
    assert 'Batch <span class="code">VC500-26-0042</span>: 100,000 tablets' in picking
    assert "Needed <strong>55.000 kg</strong>" in picking
    # The issue form the pick list links to is filled with a plain number the form reads.
    issue = walt.client.get(
        "/lots/issue?expected_lot=ASC-1&batch_no=VC500-26-0042&quantity=12500.50"
    )
    assert 'value="12500.50"' in issue.get_data(as_text=True)
    assert ledger.balance(session, lot.id) == Decimal("12500.50")  # stored as received


def test_a_form_without_its_one_time_key_is_stale(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    demo_master.seed_master_data(session, actor=SYSTEM, clock=CLOCK)
    answer = signed_in("warehouse").post("/lots/receive", RECEIPT)
    assert answer.status_code == 422
    assert "This form is stale" in answer.get_data(as_text=True)
    assert count(session, Lot) == 0


def test_issue_of_a_quarantined_lot_is_refused_with_the_reason(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    lot = _lot(session, make_user)
    answer = signed_in("warehouse").post(
        "/lots/issue",
        {
            "lot": lot.lot_code,
            "quantity": "1",
            "batch_no": "VC500-26-0042",
            "key": uuid.uuid4().hex,
        },
    )
    assert answer.status_code == 422
    assert f"Lot {lot.lot_code} is quarantine, not released." in answer.get_data(as_text=True)
    assert ledger.balance(session, lot.id) == 10


def test_qa_sees_the_decisions_open_for_the_status(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    lot = _lot(session, make_user)
    page = signed_in("qa").client.get(f"/lots/{lot.lot_code}").get_data(as_text=True)
    assert ">Release</button>" in page
    assert ">Reject</button>" in page
    assert ">Lift hold</button>" not in page
    assert page.count('id="sign-dialog"') == 1


def test_a_label_preview_records_nothing_and_scans_as_nothing(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    """Issue 11 point 7: the only way to a scannable label is the audited print."""
    lot = _lot(session, make_user)
    operator = signed_in("operator")
    trail = count(session, AuditEvent)
    preview = operator.client.get(f"/lots/{lot.lot_code}/label").get_data(as_text=True)
    assert "PREVIEW — NOT A LABEL" in preview
    assert "<svg" not in preview
    assert "(01)" not in preview  # no GS1 data to copy either
    assert count(session, AuditEvent) == trail
    assert "Print lot label" not in operator.client.get(f"/lots/{lot.lot_code}").get_data(
        as_text=True
    )  # the same rule as the service's
    assert operator.post(f"/lots/{lot.lot_code}/label", {"reason": "x"}).status_code == 403
    operator.post("/logout")

    walt = signed_in("warehouse")
    printed = walt.post(f"/lots/{lot.lot_code}/label")
    assert printed.status_code == 200
    assert "<svg" in printed.get_data(as_text=True)
    reprint = walt.post(f"/lots/{lot.lot_code}/label")
    html = reprint.get_data(as_text=True)
    assert reprint.status_code == 422
    assert (
        '<p class="field-error" id="reason-error">This label was printed before: give a reason '
        "for the reprint.</p>"
    ) in html


def test_an_issue_beyond_the_recipe_is_refused_beside_the_quantity(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    """5 kg of magnesium stearate for a batch needing 0.500 kg: the form comes back (422) with
    the numbers beside the quantity field, and nothing moves."""
    _lot(session, make_user)
    mgs = ledger.get_lot(session, "MGS-2610-01")
    answer = signed_in("warehouse").post(
        "/lots/issue",
        {"lot": mgs.lot_code, "quantity": "5", "batch_no": "VC500-26-0042",
         "key": uuid.uuid4().hex},
    )  # fmt: skip
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert (
        '<p class="field-error" id="quantity-error">Batch VC500-26-0042 needs 0.500 kg of '
        "RM-MGS ±2 % (0.010 kg); nothing is issued yet, so at most 0.510 kg more may be "
        "issued, not 5 kg." in html
    )
    assert 'aria-describedby="quantity-error"' in html
    assert ledger.balance(session, mgs.id) == 5  # type: ignore[arg-type]


def test_an_ftl_food_without_its_tlc_is_refused_beside_the_field_and_kept_when_given(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    food_plant(session)
    walt = signed_in("warehouse")
    basil = {**RECEIPT, "material": "RM-BASIL", "supplier": "SUP-HERBCO", "supplier_lot": "HB-1",
             "expiry": "2026-12-01"}  # fmt: skip

    refused = walt.post("/lots/receive", {**basil, "key": uuid.uuid4().hex})
    assert refused.status_code == 422
    assert 'id="tlc-error"' in refused.get_data(as_text=True)
    assert "is on the Food Traceability List" in refused.get_data(as_text=True)

    kept = walt.post(
        "/lots/receive",
        {**basil, "tlc": "SVG-0412-B", "tlc_source": "SUP-GROWER", "key": uuid.uuid4().hex},
    )
    assert kept.status_code == 302
    page = walt.client.get("/lots/BASIL-2611-01").get_data(as_text=True)
    assert "SVG-0412-B" in page
    assert "Salinas Valley Growers" in page


def test_a_correction_and_a_count_answer_beside_their_fields_and_show_the_old_value(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    lot = _lot(session, make_user)
    walt = signed_in("warehouse")
    refused = walt.post(f"/lots/{lot.lot_code}/correct", {"field": "expiry", "value": "31.12.2028",
                                                          "reason": "Misread"})  # fmt: skip
    assert refused.status_code == 422
    assert '<p class="field-error" id="value-error">Enter the expiry date as YYYY-MM-DD.' in (
        refused.get_data(as_text=True)
    )
    done = walt.post(f"/lots/{lot.lot_code}/correct", {"field": "expiry", "value": "2028-12-31",
                                                       "reason": "Misread"})  # fmt: skip
    assert done.status_code == 302
    page = walt.client.get(f"/lots/{lot.lot_code}").get_data(as_text=True)
    assert '<del class="superseded">2028-01-01</del> → <strong>2028-12-31</strong>' in page
    counted = walt.post("/lots/MCC-2610-01/count", {"counted": "60", "reason": "Count"})
    assert counted.status_code == 422
    assert "The count matches the book (60" in counted.get_data(as_text=True)
    assert (
        walt.post("/lots/MCC-2610-01/count", {"counted": "59", "reason": "Bag torn"}).status_code
        == 302
    )
    page = walt.client.get("/lots/MCC-2610-01").get_data(as_text=True)
    assert "Waiting for QA&#39;s approval." in page or "Waiting for QA's approval." in page


def test_choosing_the_material_loads_its_suppliers_at_once(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    """Issue 12 point 8: the receipt form asks again when the material changes (htmx GET with
    the form's values), and comes back with that material's approved suppliers, what was typed
    kept, and its only supplier chosen."""
    demo_master.seed_master_data(session, actor=SYSTEM, clock=CLOCK)
    walt = signed_in("warehouse")
    blank = walt.client.get("/lots/receive").get_data(as_text=True)
    assert "Choose the material first" in blank
    assert 'hx-trigger="change"' in blank and 'hx-params="not csrf_token"' in blank
    answer = walt.client.get(
        "/lots/receive?material=RM-ASC&supplier_lot=S-9&key=k-1",
        headers={"HX-Request": "true"},
    )
    partial = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<html" not in partial  # the receipt part only
    assert '<option value="SUP-NORTHBRIDGE" selected>' in partial
    assert 'value="S-9"' in partial
    assert 'name="key" value="k-1"' in partial
    assert count(session, Lot) == 0


def test_qa_hold_is_amber_not_the_red_of_reject(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    lot = _lot(session, make_user)
    page = signed_in("qa").client.get(f"/lots/{lot.lot_code}").get_data(as_text=True)
    assert 'class="btn btn-danger btn-block" type="submit">Reject</button>' in page
    assert 'class="btn btn-caution btn-block" type="submit">Put on hold</button>' in page
