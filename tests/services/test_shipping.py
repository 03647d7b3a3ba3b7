"""Finished goods in, and shipping released lots to a customer with the FSMA 204 KDEs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from app.models import AuditEvent, Lot, Shipment, ShipmentLine, User
from app.services.accounts.auth import find_user
from app.services.core import gs1
from app.services.core.errors import GateViolation, PermissionDenied, Rejected
from app.services.demo import seed_demo
from app.services.demo.master import OPENING_STOCK
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from app.services.trace import despatch_advice
from app.services.warehouse import ledger, shipping
from app.services.warehouse import output as production_output
from app.services.warehouse.output import OutputIn
from tests.clock import CLOCK, at
from tests.conftest import SYSTEM, audit_actions, count
from tests.signing import NOW, Signer, sign_lot


@pytest.fixture
def walt(session: Session) -> User:
    """The demo plant with batch VC500-26-0042 planned (its output is what ships)."""
    seed_demo(session, actor=SYSTEM, clock=at(NOW))
    batches.create_batch(
        session,
        actor=find_user(session, "sam"),  # type: ignore[arg-type]
        new=BatchIn("VC500", "VC500-26-0042", "100000"),
        clock=at(NOW),
    )
    return find_user(session, "walt")  # type: ignore[return-value]


@pytest.fixture
def qa(make_signer: Callable[..., Signer]) -> Signer:
    return make_signer("qa", username="qa-lead", full_name="Quinn Adeyemi")


def pick(session: Session, **kwargs: object) -> object:
    """Pick with a fresh form key, as the page does (at NOW unless a clock is given)."""
    kwargs.setdefault("clock", CLOCK)
    line, _ = shipping.add_line(session, key=uuid.uuid4().hex, **kwargs)  # type: ignore[arg-type]
    return line


def despatch(session: Session, walt: User, shipment: Shipment) -> None:
    shipping.despatch(
        session, actor=walt, shipment_no=shipment.shipment_no, key=uuid.uuid4().hex, clock=at(NOW)
    )


def output(session: Session, walt: User, key: str | None = None) -> tuple[Lot, bool]:
    return production_output.receive_output(
        session,
        actor=walt,
        new=OutputIn("VC500", "vc500-26-0042", "100000", key=key or uuid.uuid4().hex),
        clock=at(NOW),
    )


def test_batch_output_comes_in_as_its_own_lot_in_quarantine(session: Session, walt: User) -> None:
    lot, again = output(session, walt, key="k-1")

    assert not again
    assert (lot.lot_code, lot.status, lot.unit) == ("VC500-26-0042", "quarantine", "tablets")
    assert lot.expiry == (NOW + timedelta(days=730)).date()  # the product's shelf life
    assert [m.kind for m in ledger.movements(session, lot.id)] == ["production"]
    assert output(session, walt, key="k-1") == (lot, True)
    with pytest.raises(Rejected, match="The output of VC500-26-0042 is already in"):
        output(session, walt)
    with pytest.raises(Rejected, match="Choose the finished product"):
        production_output.receive_output(
            session, actor=walt, new=OutputIn("RM-ASC", "B-2", "5", key="k-2"), clock=at(NOW)
        )
    with pytest.raises(Rejected, match="There is no batch 'B-2'"):
        production_output.receive_output(
            session, actor=walt, new=OutputIn("VC500", "B-2", "5", key="k-3"), clock=at(NOW)
        )
    assert count(session, Lot) == len(OPENING_STOCK) + 1


def test_the_output_must_be_what_the_batch_makes(session: Session, walt: User) -> None:
    with pytest.raises(Rejected, match="Batch VC500-26-0042 makes VC500, not FS-200"):
        production_output.receive_output(
            session,
            actor=walt,
            new=OutputIn("FS-200", "VC500-26-0042", "10", key="k"),
            clock=at(NOW),
        )


def test_a_lot_that_is_not_released_cannot_ship(session: Session, walt: User) -> None:
    lot, _ = output(session, walt)
    shipment = shipping.start_shipment(
        session, actor=walt, customer_code="CUST-GREENLEAF", reference="PO-8812", clock=at(NOW)
    )
    with pytest.raises(GateViolation, match="is quarantine, not released"):
        pick(
            session, actor=walt, shipment_no=shipment.shipment_no, scanned=lot.lot_code,
            quantity="40000", clock=at(NOW),
        )  # fmt: skip


def test_ship_a_released_lot_by_scanning_its_label_with_the_kdes(
    session: Session, walt: User, qa: Signer
) -> None:
    lot, _ = output(session, walt)
    sign_lot(session, qa.user, lot, "released")
    shipment = shipping.start_shipment(
        session, actor=walt, customer_code="cust-greenleaf", reference="PO-8812", clock=at(NOW)
    )
    label = gs1.lot_label(gtin="09501101020917", lot_code=lot.lot_code, expiry=lot.expiry)

    pick(
        session, actor=walt, shipment_no=shipment.shipment_no, scanned="]C1" + label.element_string,
        quantity="40000", clock=at(NOW),
    )  # fmt: skip
    with pytest.raises(
        GateViolation, match="has 60,000 tablets free to ship; 70,000 tablets cannot"
    ):
        pick(
            session, actor=walt, shipment_no=shipment.shipment_no, scanned=lot.lot_code,
            quantity="70000", clock=at(NOW),
        )  # fmt: skip
    despatch(session, walt, shipment)

    assert shipment.status == "shipped"
    assert ledger.balance(session, lot.id) == Decimal("60000")
    advice = despatch_advice.export(session, shipment, at(NOW)).content
    assert advice["ship_date"] == "2026-11-22"  # the plant's date (Berlin)
    assert advice["reference"] == "PO-8812"
    assert advice["ship_to"]["business_name"] == "Greenleaf Pharmacy"
    assert advice["ship_to"]["city"] == "Portland"
    assert advice["ship_from"]["fda_registration"] == "12345678901"
    [item] = advice["lines"]
    assert item["traceability_lot_code"] == "VC500-26-0042"  # assigned by the batch, not here
    assert item["tlc_source"]["business_name"] == "Batchbook Demo Manufacturing LLC"
    assert (item["quantity"], item["unit"]) == ("40000", "tablets")
    assert item["product_description"] == "Vitamin C 500 mg tablets"
    csv_text = despatch_advice.despatch_advice_csv(advice)
    assert csv_text.splitlines()[0].startswith("Event ID,CTE type,TLC,Quantity,UOM,")
    assert "VC500-26-0042" in csv_text.splitlines()[1]
    assert "shipment.despatched" in audit_actions(session, entity_type="shipment")
    with pytest.raises(Rejected, match="has already shipped"):
        pick(
            session, actor=walt, shipment_no=shipment.shipment_no, scanned=lot.lot_code,
            quantity="1", clock=at(NOW),
        )  # fmt: skip


def test_a_hold_after_picking_stops_the_despatch(session: Session, walt: User, qa: Signer) -> None:
    lot, _ = output(session, walt)
    sign_lot(session, qa.user, lot, "released")
    shipment = shipping.start_shipment(
        session, actor=walt, customer_code="CUST-GREENLEAF", reference="", clock=at(NOW)
    )
    line = pick(
        session, actor=walt, shipment_no=shipment.shipment_no, scanned=lot.lot_code,
        quantity="100", clock=at(NOW),
    )  # fmt: skip
    sign_lot(session, qa.user, lot, "held", reason="Complaint under investigation")

    with pytest.raises(GateViolation, match="is on hold"):
        despatch(session, walt, shipment)
    assert ledger.balance(session, lot.id) == Decimal("100000")

    with pytest.raises(Rejected, match="Give a reason"):
        shipping.remove_line(session, actor=walt, line_id=line.id, reason="", clock=CLOCK)
    shipping.remove_line(session, actor=walt, line_id=line.id, reason="Lot on hold", clock=CLOCK)
    with pytest.raises(Rejected, match="Nothing is picked yet"):
        despatch(session, walt, shipment)


def test_a_double_tap_picks_and_despatches_once(session: Session, walt: User, qa: Signer) -> None:
    lot, _ = output(session, walt)
    sign_lot(session, qa.user, lot, "released")
    shipment = shipping.start_shipment(
        session, actor=walt, customer_code="CUST-GREENLEAF", reference="", clock=at(NOW)
    )
    form = {"actor": walt, "shipment_no": shipment.shipment_no, "scanned": lot.lot_code,
            "quantity": "10", "key": "pick-1", "clock": at(NOW)}  # fmt: skip
    first, _ = shipping.add_line(session, **form)  # type: ignore[arg-type]
    again, repeated = shipping.add_line(session, **form)  # type: ignore[arg-type]
    assert repeated
    assert again.id == first.id
    assert count(session, ShipmentLine) == 1

    shipping.despatch(
        session, actor=walt, shipment_no=shipment.shipment_no, key="d-1", clock=at(NOW)
    )
    _, repeated = shipping.despatch(
        session, actor=walt, shipment_no=shipment.shipment_no, key="d-1", clock=at(NOW)
    )
    assert repeated
    assert ledger.balance(session, lot.id) == Decimal("99990")


def test_pallet_sscc_and_customers_only(session: Session, walt: User) -> None:
    with pytest.raises(Rejected, match="Choose an active customer"):
        shipping.start_shipment(
            session, actor=walt, customer_code="SUP-CELLUTEC", reference="", clock=CLOCK
        )
    shipment = shipping.start_shipment(
        session, actor=walt, customer_code="CUST-GREENLEAF", reference="", clock=at(NOW)
    )
    with pytest.raises(Rejected, match="Pallet SSCC 106141411234567897 is not recorded here"):
        pick(
            session, actor=walt, shipment_no=shipment.shipment_no,
            scanned="00106141411234567897", quantity="1", clock=at(NOW),
        )  # fmt: skip


def test_a_digital_link_on_the_lot_label_picks_its_lot(
    session: Session, walt: User, qa: Signer
) -> None:
    lot, _ = output(session, walt)
    sign_lot(session, qa.user, lot, "released")
    shipment = shipping.start_shipment(
        session, actor=walt, customer_code="CUST-GREENLEAF", reference="", clock=at(NOW)
    )
    link = f"]Q1https://example.com/01/09501101020917/10/{lot.lot_code}?17=280531"
    line = pick(
        session, actor=walt, shipment_no=shipment.shipment_no, scanned=link, quantity="10",
        clock=at(NOW),
    )  # fmt: skip
    assert line.lot_id == lot.id  # type: ignore[attr-defined]
    with pytest.raises(Rejected, match="is not a GS1 Digital Link"):
        pick(
            session, actor=walt, shipment_no=shipment.shipment_no,
            scanned="https://example.com/track", quantity="1", clock=at(NOW),
        )  # fmt: skip


# Issue 12 point 10: a customer is sold finished goods; anything else ships only with a reason.
SAMPLE = "Sample for the customer's incoming-goods lab, agreed by phone"


def shipment_to_greenleaf(session: Session, walt: User) -> Shipment:
    return shipping.start_shipment(
        session, actor=walt, customer_code="CUST-GREENLEAF", reference="PO-1", clock=at(NOW)
    )


def test_a_raw_material_is_not_picked_for_a_customer_without_a_reason(
    session: Session, walt: User
) -> None:
    shipment = shipment_to_greenleaf(session, walt)
    trail = count(session, AuditEvent)

    with pytest.raises(Rejected) as refused:
        pick(
            session, actor=walt, shipment_no=shipment.shipment_no, scanned="MCC-2610-01",
            quantity="2", clock=at(NOW),
        )  # fmt: skip

    [violation] = refused.value.violations
    assert violation.field == "reason"
    assert violation.message == (
        "Lot MCC-2610-01 is a raw material (Microcrystalline cellulose), not a finished good "
        "sold to customers. Give the reason it ships to this customer, or scan another lot."
    )
    assert count(session, ShipmentLine) == 0
    assert count(session, AuditEvent) == trail


def test_a_raw_material_ships_with_its_reason_on_the_line_in_the_trail_and_the_advice(
    session: Session, walt: User
) -> None:
    shipment = shipment_to_greenleaf(session, walt)

    line = pick(
        session, actor=walt, shipment_no=shipment.shipment_no, scanned="MCC-2610-01",
        quantity="2", reason=f"  {SAMPLE}  ", clock=at(NOW),
    )  # fmt: skip
    despatch(session, walt, shipment)

    assert line.pick_reason == SAMPLE  # type: ignore[attr-defined]
    picked = session.exec(select(AuditEvent).where(AuditEvent.action == "shipment.picked")).one()
    assert picked.reason == SAMPLE
    advice = despatch_advice.export(session, shipment, at(NOW)).content
    [item] = advice["lines"]
    assert (item["lot_code"], item["reason_shipped"]) == ("MCC-2610-01", SAMPLE)
    csv_text = despatch_advice.despatch_advice_csv(advice)
    assert csv_text.splitlines()[0].endswith(",Expiry,Reason shipped")
    assert SAMPLE in csv_text.splitlines()[1]


def test_a_finished_good_needs_no_reason_and_keeps_none(
    session: Session, walt: User, qa: Signer
) -> None:
    lot, _ = output(session, walt)
    sign_lot(session, qa.user, lot, "released")
    shipment = shipment_to_greenleaf(session, walt)

    line = pick(
        session, actor=walt, shipment_no=shipment.shipment_no, scanned=lot.lot_code,
        quantity="100", reason="left over from an earlier scan", clock=at(NOW),
    )  # fmt: skip
    despatch(session, walt, shipment)

    assert line.pick_reason is None  # type: ignore[attr-defined]
    [item] = despatch_advice.export(session, shipment, at(NOW)).content["lines"]
    assert "reason_shipped" not in item


def test_a_refused_pick_names_every_field_at_fault(
    session: Session, walt: User, qa: Signer
) -> None:
    lot, _ = output(session, walt)  # in quarantine
    shipment = shipment_to_greenleaf(session, walt)

    with pytest.raises(Rejected) as both:
        pick(
            session, actor=walt, shipment_no=shipment.shipment_no, scanned="NO-SUCH-LOT",
            quantity="many", clock=at(NOW),
        )  # fmt: skip
    assert [v.field for v in both.value.violations] == ["scan", "quantity"]

    with pytest.raises(GateViolation) as gate:
        pick(
            session, actor=walt, shipment_no=shipment.shipment_no, scanned=lot.lot_code,
            quantity="1", clock=at(NOW),
        )  # fmt: skip
    assert [(v.code, v.field) for v in gate.value.violations] == [("lot.status", "scan")]

    sign_lot(session, qa.user, lot, "released")
    with pytest.raises(GateViolation) as stock:
        pick(
            session, actor=walt, shipment_no=shipment.shipment_no, scanned=lot.lot_code,
            quantity="100001", clock=at(NOW),
        )  # fmt: skip
    assert [(v.code, v.field) for v in stock.value.violations] == [("lot.balance", "quantity")]


def test_the_pick_form_reads_the_scan_for_its_unit_and_reason(
    session: Session, walt: User, qa: Signer
) -> None:
    lot, _ = output(session, walt)
    label = gs1.lot_label(gtin="09501101020917", lot_code=lot.lot_code, expiry=lot.expiry)

    finished = shipping.read_pick_scan(session, "]C1" + label.element_string)
    raw = shipping.read_pick_scan(session, "mcc-2610-01")

    assert finished is not None
    assert (finished.lot.id, finished.unit, finished.needs_reason) == (lot.id, "tablets", False)
    assert raw is not None
    assert (raw.unit, raw.needs_reason) == ("kg", True)
    assert shipping.read_pick_scan(session, "NO-SUCH-LOT") is None
    assert shipping.read_pick_scan(session, "  ") is None


def test_the_despatch_summary_totals_per_unit_and_says_what_stops_it(
    session: Session, walt: User, qa: Signer
) -> None:
    lot, _ = output(session, walt)
    sign_lot(session, qa.user, lot, "released")
    shipment = shipment_to_greenleaf(session, walt)
    assert [v.code for v in shipping.despatch_summary(session, shipment.shipment_no, at(NOW))
            .blocked_by] == ["shipment.empty"]  # fmt: skip
    for quantity in ("30000", "10000"):
        pick(
            session, actor=walt, shipment_no=shipment.shipment_no, scanned=lot.lot_code,
            quantity=quantity, clock=at(NOW),
        )  # fmt: skip
    pick(
        session, actor=walt, shipment_no=shipment.shipment_no, scanned="MCC-2610-01",
        quantity="2.5", reason=SAMPLE, clock=at(NOW),
    )  # fmt: skip
    trail = count(session, AuditEvent)

    summary = shipping.despatch_summary(session, shipment.shipment_no, at(NOW))

    assert summary.customer.business_name == "Greenleaf Pharmacy"
    assert len(summary.lines) == 3
    assert summary.totals == [(Decimal("40000"), "tablets"), (Decimal("2.5"), "kg")]
    assert summary.blocked_by == []
    assert count(session, AuditEvent) == trail  # a look, not a change

    despatch(session, walt, shipment)
    shipped = shipping.despatch_summary(session, shipment.shipment_no, at(NOW))
    assert [v.code for v in shipped.blocked_by] == ["shipment.shipped"]

    second = shipment_to_greenleaf(session, walt)
    pick(
        session, actor=walt, shipment_no=second.shipment_no, scanned=lot.lot_code,
        quantity="1", clock=at(NOW),
    )  # fmt: skip
    sign_lot(session, qa.user, lot, "held", reason="Complaint under investigation")
    held = shipping.despatch_summary(session, second.shipment_no, at(NOW))
    assert [v.code for v in held.blocked_by] == ["lot.status"]


def test_only_the_warehouse_may_ship(session: Session, walt: User) -> None:
    quinn = find_user(session, "quinn")
    assert quinn is not None
    assert shipping.may_ship(walt)
    assert not shipping.may_ship(quinn)
    with pytest.raises(PermissionDenied):
        shipping.start_shipment(
            session, actor=quinn, customer_code="CUST-GREENLEAF", reference="", clock=at(NOW)
        )
