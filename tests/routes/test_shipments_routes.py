"""Finished goods and shipping over HTTP: gates answered in place, the advice as CSV and JSON.

Issue 12 point 10: the pick form takes the lot scan first and the quantity in the lot's unit,
follows the scanner Enter rules and answers each refusal beside its field; a lot that is not a
finished good needs a reason; the despatch asks one confirmation; the advice has a printable
page that reads the frozen advice."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.models import Lot
from app.services.accounts.auth import find_user
from app.services.core import gs1
from app.services.demo import seed_demo
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from app.services.masterdata import parties
from app.services.masterdata.parties import PartyIn
from app.services.trace import despatch_advice
from app.services.warehouse import ledger, shipping
from app.services.warehouse import output as production_output
from app.services.warehouse.output import OutputIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM, audit_actions, count, drop_guards
from tests.food import food_plant, receive
from tests.routes.conftest import Browser
from tests.signing import Signer, sign_lot

RESOLD = "Greenleaf's deli buys our basil as it comes"


def test_finished_goods_in_then_shipped_with_its_advice(
    signed_in: Callable[..., Browser], session: Session, make_signer: Callable[..., Signer]
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    batches.create_batch(
        session,
        actor=find_user(session, "sam"),  # type: ignore[arg-type]
        new=BatchIn("VC500", "VC500-26-0042", "100000"),
        clock=CLOCK,
    )
    lots_before = count(session, Lot)
    walt = signed_in("warehouse")
    bad = walt.post("/lots/output", {"material": "VC500", "batch_no": "", "quantity": "x",
                                    "key": uuid.uuid4().hex})  # fmt: skip
    assert bad.status_code == 422
    assert "Enter the batch number." in bad.get_data(as_text=True)
    assert count(session, Lot) == lots_before

    made = walt.post("/lots/output", {"material": "VC500", "batch_no": "VC500-26-0042",
                                     "quantity": "100000", "key": uuid.uuid4().hex})  # fmt: skip
    assert made.status_code == 302
    lot = ledger.get_lot(session, "VC500-26-0042")

    assert (
        walt.post("/shipments/", {"customer": "CUST-GREENLEAF", "reference": "PO-8812"}).status_code
        == 302
    )
    [(shipment, _)] = shipping.list_shipments(session)
    page = f"/shipments/{shipment.shipment_no}"
    refused = walt.post(
        f"{page}/lines", {"scan": lot.lot_code, "quantity": "40000", "key": uuid.uuid4().hex}
    )
    assert refused.status_code == 422
    assert "Lot VC500-26-0042 is quarantine, not released." in refused.get_data(as_text=True)

    sign_lot(session, make_signer("qa", username="qa-lead").user, lot, "released")
    assert (
        walt.post(
            f"{page}/lines", {"scan": lot.lot_code, "quantity": "40000", "key": uuid.uuid4().hex}
        ).status_code
        == 302
    )
    assert walt.post(f"{page}/despatch", {"key": uuid.uuid4().hex}).status_code == 302
    assert "Despatch advice" in walt.client.get(page).get_data(as_text=True)

    as_csv = walt.client.get(f"{page}/advice.csv")
    assert as_csv.mimetype == "text/csv"
    assert "attachment" in as_csv.headers["Content-Disposition"]
    assert "VC500-26-0042" in as_csv.get_data(as_text=True)
    advice = json.loads(walt.client.get(f"{page}/advice.json").get_data(as_text=True))
    assert advice["lines"][0]["traceability_lot_code"] == "VC500-26-0042"
    assert advice["lines"][0]["quantity"] == "40000"
    assert advice["ship_to"]["business_name"] == "Greenleaf Pharmacy"
    assert len(as_csv.headers["X-Content-SHA256"]) == 64


def test_a_tampered_despatch_advice_is_refused_with_the_reason(
    signed_in: Callable[..., Browser], session: Session, make_signer: Callable[..., Signer]
) -> None:
    walt_user = food_plant(session)
    lot = receive(session, walt_user, tlc="SVG-0412-B", tlc_source="SUP-GROWER")
    sign_lot(session, make_signer("qa", username="qa-lead").user, lot, "released")
    shipment = shipping.start_shipment(
        session, actor=walt_user, customer_code="CUST-GREENLEAF", reference="", clock=CLOCK
    )
    shipping.add_line(
        session, actor=walt_user, shipment_no=shipment.shipment_no, scanned=lot.lot_code,
        quantity="1", key="p", clock=CLOCK, reason=RESOLD,
    )  # fmt: skip
    shipping.despatch(
        session, actor=walt_user, shipment_no=shipment.shipment_no, key="d", clock=CLOCK
    )
    drop_guards(session, "despatch_advice")
    session.execute(text("UPDATE despatch_advice SET content = replace(content, '5', '6')"))
    session.expire_all()
    walt = signed_in("warehouse")
    page = f"/shipments/{shipment.shipment_no}"

    exported = walt.client.get(f"{page}/advice.csv")
    assert exported.status_code == 409
    assert "does not match the SHA-256 it was frozen with" in exported.get_data(as_text=True)
    assert "SVG-0412-B" not in exported.get_data(as_text=True)
    assert 'id="advice-tampered"' in walt.client.get(page).get_data(as_text=True)


SAMPLE = "Sample for the customer's incoming-goods lab"


@pytest.fixture
def vc500(session: Session, make_signer: Callable[..., Signer]) -> Lot:
    """The demo plant with batch VC500-26-0042's output in and released: 100,000 tablets."""
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    walt = find_user(session, "walt")
    batches.create_batch(
        session, actor=find_user(session, "sam"),  # type: ignore[arg-type]
        new=BatchIn("VC500", "VC500-26-0042", "100000"), clock=CLOCK,
    )  # fmt: skip
    lot, _ = production_output.receive_output(
        session, actor=walt,  # type: ignore[arg-type]
        new=OutputIn("VC500", "VC500-26-0042", "100000", key="out-1"), clock=CLOCK,
    )  # fmt: skip
    sign_lot(session, make_signer("qa", username="qa-lead").user, lot, "released")
    return lot


def open_shipment(walt: Browser, session: Session) -> str:
    """Start a shipment to Greenleaf as the index page does; its page's path."""
    assert (
        walt.post("/shipments/", {"customer": "CUST-GREENLEAF", "reference": "PO-1"}).status_code
        == 302
    )
    [(shipment, _)] = shipping.list_shipments(session)
    return f"/shipments/{shipment.shipment_no}"


def our_label(lot: Lot) -> str:
    """Our own GS1 lot label as the scanner types it, with its symbology prefix."""
    return (
        "]C1"
        + gs1.lot_label(
            gtin="09501101020917", lot_code=lot.lot_code, expiry=lot.expiry
        ).element_string
    )


def pick_form(html: str) -> str:
    start = html.index('<form method="post" action="/shipments/')
    return html[start : html.index("</form>", start)]


def test_the_pick_form_takes_the_lot_scan_first_then_the_quantity_by_the_enter_rules(
    signed_in: Callable[..., Browser], session: Session, vc500: Lot
) -> None:
    walt = signed_in("warehouse")
    page = open_shipment(walt, session)

    form = pick_form(walt.client.get(page).get_data(as_text=True))

    assert "data-enter-rules novalidate" in form
    assert form.index('name="scan"') < form.index('name="quantity"')
    scan_input = form[form.index("<input", form.index("Scan the lot label")) :]
    scan_input = scan_input[: scan_input.index(">")]
    for attribute in (
        "required",
        "data-gs1",
        'hx-get="' + page + '/scanned"',
        'hx-trigger="change"',
    ):
        assert attribute in scan_input
    assert "autofocus" not in form  # the Enter rules put the cursor in the empty scan field
    assert 'Quantity <span id="pick-unit"></span>' in form  # no lot scanned yet: no unit


def test_a_scanned_lot_gives_the_quantity_its_unit_and_asks_a_reason_only_off_the_finished_goods(
    signed_in: Callable[..., Browser], session: Session, vc500: Lot
) -> None:
    walt = signed_in("warehouse")
    page = open_shipment(walt, session)

    finished = walt.client.get(f"{page}/scanned", query_string={"scan": our_label(vc500)})
    raw = walt.client.get(f"{page}/scanned", query_string={"scan": "MCC-2610-01"})
    unknown = walt.client.get(f"{page}/scanned", query_string={"scan": "NO-SUCH-LOT"})

    html = finished.get_data(as_text=True)
    assert html.lstrip().startswith('<span id="pick-unit">(tablets)</span>')
    assert '<div id="pick-reason" class="stack" hx-swap-oob="true">' in html  # emptied
    assert 'name="reason"' not in html
    html = raw.get_data(as_text=True)
    assert html.lstrip().startswith('<span id="pick-unit">(kg)</span>')
    assert "not a finished good sold to customers" in html
    assert 'name="reason"' in html and "required" in html[html.index('name="reason"') :]
    assert unknown.get_data(as_text=True).lstrip().startswith('<span id="pick-unit"></span>')


def test_a_refused_pick_comes_back_with_the_words_and_the_cursor_at_the_field_at_fault(
    signed_in: Callable[..., Browser], session: Session, vc500: Lot
) -> None:
    walt = signed_in("warehouse")
    lines = open_shipment(walt, session) + "/lines"

    unknown = walt.post(lines, {"scan": "NO-SUCH-LOT", "quantity": "5", "key": "k1"}, htmx=True)
    html = unknown.get_data(as_text=True)
    assert unknown.status_code == 422
    assert html.lstrip().startswith('<section id="shipment-pick"')
    assert (
        '<p class="field-error" id="scan-error">There is no lot &#39;NO-SUCH-LOT&#39;.</p>' in html
    )
    form = pick_form(html)
    # The scan keeps what was read, marked at fault (js/fields.js selects it, so the next scan
    # replaces it); the quantity typed is kept and not marked.
    assert 'name="scan" value="NO-SUCH-LOT" required' in form
    assert form.count('aria-invalid="true"') == 1
    assert 'aria-invalid="true" aria-describedby="scan-error"' in form
    assert 'name="quantity" value="5"' in form

    too_much = walt.post(
        lines, {"scan": vc500.lot_code, "quantity": "100001", "key": "k2"}, htmx=True
    )
    form = pick_form(too_much.get_data(as_text=True))
    assert too_much.status_code == 422
    assert 'aria-describedby="quantity-error"' in form
    assert 'Quantity <span id="pick-unit">(tablets)</span>' in form  # the unit of the lot scanned
    assert "has 100,000 tablets free to ship" in too_much.get_data(as_text=True)
    assert shipping.lines(session, shipping.list_shipments(session)[0][0]) == []


def test_a_pick_is_answered_in_place_with_an_empty_form_and_recorded_once_per_key(
    signed_in: Callable[..., Browser], session: Session, vc500: Lot
) -> None:
    walt = signed_in("warehouse")
    lines = open_shipment(walt, session) + "/lines"
    form = {"scan": our_label(vc500), "quantity": "40000", "key": str(uuid.uuid4())}

    first = walt.post(lines, form, htmx=True)
    again = walt.post(lines, form, htmx=True)

    html = first.get_data(as_text=True)
    assert first.status_code == 200
    assert "Picked 40,000 tablets of lot" in html
    assert 'name="scan" value="" required' in pick_form(html)  # ready for the next scan
    assert 'name="quantity" value="" required' in pick_form(html)
    assert 'id="shipment-lines"' in html
    assert "Already picked; nothing new (40,000 tablets of lot" in again.get_data(as_text=True)
    assert len(shipping.lines(session, shipping.list_shipments(session)[0][0])) == 1


def test_a_raw_material_is_refused_beside_the_reason_and_picked_with_one(
    signed_in: Callable[..., Browser], session: Session, vc500: Lot
) -> None:
    walt = signed_in("warehouse")
    page = open_shipment(walt, session)
    form = {"scan": "MCC-2610-01", "quantity": "2", "key": "k1"}

    refused = walt.post(f"{page}/lines", form, htmx=True)
    picked = walt.post(f"{page}/lines", {**form, "key": "k2", "reason": SAMPLE}, htmx=True)

    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert '<p class="field-error" id="reason-error">Lot MCC-2610-01 is a raw material' in html
    assert 'aria-invalid="true" aria-describedby="reason-error"' in pick_form(html)
    assert 'name="scan" value="MCC-2610-01"' in pick_form(html)  # kept: only the reason to add
    assert picked.status_code == 200
    assert f"ships because: {SAMPLE.replace(chr(39), '&#39;')}" in picked.get_data(as_text=True)
    assert f"ships because: {SAMPLE.replace(chr(39), '&#39;')}" in walt.client.get(page).get_data(
        as_text=True
    )


def test_a_take_off_without_a_reason_is_refused_beside_that_lines_reason(
    signed_in: Callable[..., Browser], session: Session, vc500: Lot
) -> None:
    walt = signed_in("warehouse")
    page = open_shipment(walt, session)
    walt.post(f"{page}/lines", {"scan": vc500.lot_code, "quantity": "1", "key": "k1"}, htmx=True)
    [(line, _, _)] = shipping.lines(session, shipping.list_shipments(session)[0][0])

    refused = walt.post(f"{page}/lines/{line.id}/remove", {"reason": ""}, htmx=True)

    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    row = html[html.index(f'id="shipment-line-{line.id}"') :]
    assert '<p class="field-error" id="reason-error">Give a reason' in row
    assert 'aria-invalid="true"' not in pick_form(html)


def test_despatch_asks_one_confirmation_with_the_summary_and_nothing_ships_until_then(
    signed_in: Callable[..., Browser], session: Session, vc500: Lot
) -> None:
    walt = signed_in("warehouse")
    page = open_shipment(walt, session)
    walt.post(
        f"{page}/lines", {"scan": vc500.lot_code, "quantity": "40000", "key": "k1"}, htmx=True
    )
    walt.post(
        f"{page}/lines",
        {"scan": "MCC-2610-01", "quantity": "2.5", "reason": SAMPLE, "key": "k2"},
        htmx=True,
    )

    shown = pick_form(walt.client.get(page).get_data(as_text=True))
    button = walt.client.get(page).get_data(as_text=True)
    confirm = walt.client.get(f"{page}/despatch", headers={"HX-Request": "true"})
    plain = walt.client.get(f"{page}/despatch")

    assert "Despatch now" not in shown + button  # the page offers Despatch, not the deed
    assert f'hx-get="{page}/despatch"' in button
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert html.lstrip().startswith('<div id="shipment-despatch"')
    assert "Despatch to Greenleaf Pharmacy?" in html
    assert "VC500-26-0042" in html and "MCC-2610-01" in html
    assert "2 lines; in all <strong>40,000 tablets</strong> + <strong>2.5 kg</strong>." in html
    assert "Despatch now" in html and "Not yet" in html
    assert "confirm(" not in html and "<script" not in html
    assert "Despatch to Greenleaf Pharmacy?" in plain.get_data(as_text=True)  # without htmx too
    [(shipment, _)] = shipping.list_shipments(session)
    assert shipment.status == "picking"


def test_a_double_tapped_despatch_ships_once_and_says_so(
    signed_in: Callable[..., Browser], session: Session, vc500: Lot
) -> None:
    walt = signed_in("warehouse")
    page = open_shipment(walt, session)
    walt.post(
        f"{page}/lines", {"scan": vc500.lot_code, "quantity": "40000", "key": "k1"}, htmx=True
    )

    first = walt.post(f"{page}/despatch", {"key": "d1"}, htmx=True)
    second = walt.post(f"{page}/despatch", {"key": "d1"}, htmx=True)
    told = walt.client.get(page).get_data(as_text=True)
    other = walt.post(f"{page}/despatch", {"key": "d2"}, htmx=True)  # an older confirmation

    assert (first.status_code, first.headers["HX-Redirect"]) == (204, page)
    assert (second.status_code, second.headers["HX-Redirect"]) == (204, page)
    assert "Already despatched; nothing new." in told
    assert other.status_code == 422
    assert "has already shipped" in other.get_data(as_text=True)
    assert "Despatch now" not in other.get_data(as_text=True)
    assert ledger.balance(session, vc500.id) == Decimal("60000")  # type: ignore[arg-type]
    assert audit_actions(session, entity_type="shipment").count("shipment.despatched") == 1


def test_the_printable_advice_shows_the_frozen_advice_and_its_hash(
    signed_in: Callable[..., Browser], session: Session, make_signer: Callable[..., Signer]
) -> None:
    walt_user = food_plant(session)
    lot = receive(session, walt_user, tlc="SVG-0412-B", tlc_source="SUP-GROWER")
    sign_lot(session, make_signer("qa", username="qa-lead").user, lot, "released")
    walt = signed_in("warehouse")
    page = open_shipment(walt, session)
    assert walt.client.get(f"{page}/advice").status_code == 404  # nothing sent yet
    walt.post(
        f"{page}/lines",
        {"scan": lot.lot_code, "quantity": "5", "reason": RESOLD, "key": "k1"},
        htmx=True,
    )
    walt.post(f"{page}/despatch", {"key": "d1"}, htmx=True)
    [(shipment, _)] = shipping.list_shipments(session)
    frozen = despatch_advice.export(session, shipment, CLOCK).frozen
    assert frozen is not None
    greenleaf = parties.get_by_code(session, "CUST-GREENLEAF")
    parties.update_party(
        session, actor=find_user(session, "ada"), party_id=greenleaf.id,  # type: ignore[arg-type, union-attr]
        new=PartyIn("CUST-GREENLEAF", "customer", "Greenleaf Pharmacy", "+1 503 555 0999",
                    "77 New Street", "Salem", "OR", "97301", "US"),
        reason="Moved", clock=CLOCK,
    )  # fmt: skip

    shipped_page = walt.client.get(page).get_data(as_text=True)
    printable = walt.client.get(f"{page}/advice")

    assert f'href="{page}/advice"' in shipped_page
    html = printable.get_data(as_text=True)
    assert printable.status_code == 200
    lines = html[html.index('id="advice-print-lines"') :]
    assert "Fresh basil" in lines
    assert "<strong>5 kg</strong>" in lines
    assert '<span class="code">SVG-0412-B</span>' in lines
    assert f"ships because: {RESOLD.replace(chr(39), '&#39;')}" in lines
    assert f'<code class="hash">{frozen.sha256}</code>' in html
    assert "1420 NW Lovejoy Street" in html  # as sent, not today's address
    assert "77 New Street" not in html
    assert (
        '<button class="btn btn-primary btn-block" type="button" data-print>Print</button>' in html
    )
    assert "<script>" not in html and "onclick" not in html


def test_only_the_warehouse_sees_the_pick_and_despatch_controls(
    signed_in: Callable[..., Browser], session: Session, vc500: Lot
) -> None:
    walt = find_user(session, "walt")
    shipment = shipping.start_shipment(
        session,
        actor=walt,
        customer_code="CUST-GREENLEAF",
        reference="",
        clock=CLOCK,  # type: ignore[arg-type]
    )
    shipping.add_line(
        session, actor=walt, shipment_no=shipment.shipment_no, scanned=vc500.lot_code,  # type: ignore[arg-type]
        quantity="1", key="k1", clock=CLOCK,
    )  # fmt: skip
    page = f"/shipments/{shipment.shipment_no}"

    quinn = signed_in("qa")
    html = quinn.client.get(page).get_data(as_text=True)

    assert "VC500-26-0042" in html
    assert 'id="pick-form"' not in html
    assert "Take off" not in html
    assert f"{page}/despatch" not in html
    assert "Start a shipment" not in quinn.client.get("/shipments/").get_data(as_text=True)
