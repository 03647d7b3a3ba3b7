"""Finished goods and shipping over HTTP: gates answered in place, the advice as CSV and JSON."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from sqlalchemy import text
from sqlmodel import Session

from app.models import Lot
from app.services.accounts.auth import find_user
from app.services.demo import seed_demo
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from app.services.warehouse import ledger, shipping
from tests.clock import CLOCK
from tests.conftest import SYSTEM, count, drop_guards
from tests.food import food_plant, receive
from tests.routes.conftest import Browser
from tests.signing import Signer, sign_lot


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
        quantity="1", key="p", clock=CLOCK,
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


def test_a_scan_kit_pick_is_answered_in_place_and_recorded_once_per_scan_id(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    walt = signed_in("warehouse")
    walt.post("/shipments/", {"customer": "CUST-GREENLEAF", "reference": "PO-1"})
    [(shipment, _)] = shipping.list_shipments(session)
    lines = f"/shipments/{shipment.shipment_no}/lines"
    scan_id = str(uuid.uuid4())  # the kit's own id for one scan, sent as the one-time key

    refused = walt.post(lines, {"scan": "NO-SUCH-LOT", "quantity": "1", "key": scan_id}, htmx=True)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert html.lstrip().startswith('<section class="card stack" id="shipment-lines">')
    assert 'id="pick-refused" data-scan-outcome' in html

    scan = {"scan": "MCC-2610-01", "quantity": "2", "key": scan_id}
    first = walt.post(lines, scan, htmx=True)
    assert first.status_code == 200
    assert "Picked 2 kg of lot MCC-2610-01." in first.get_data(as_text=True)
    resent = walt.post(lines, scan, htmx=True)
    assert resent.status_code == 200
    assert "Already picked; nothing new (2 kg of lot MCC-2610-01)." in resent.get_data(as_text=True)
    assert len(shipping.lines(session, shipment)) == 1
