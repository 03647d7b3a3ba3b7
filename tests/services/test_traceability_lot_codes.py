"""FSMA 204 traceability lot codes (issue 11 point 8): a received food keeps its source's TLC and
TLC source beside our lot code; an FTL food without one is refused, unless we assign ours for an
exempt source, explicitly and audited; only a batch (a transformation) makes a new TLC, with our
site as source; shipping passes the TLC and source on and never makes one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

import pytest
from sqlmodel import Session, select

from app.models import Lot, User
from app.services.accounts.auth import find_user
from app.services.core.errors import GateViolation, Rejected
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from app.services.masterdata import materials
from app.services.masterdata.materials import MaterialIn
from app.services.trace import despatch_advice
from app.services.warehouse import output, receipt, shipping
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import at
from tests.conftest import audit_actions, count
from tests.food import BASIL_GTIN, food_plant, party, receive
from tests.signing import NOW, Signer, sign_lot


@pytest.fixture
def walt(session: Session) -> User:
    return food_plant(session)


@pytest.fixture
def qa(make_signer: Callable[..., Signer]) -> Signer:
    return make_signer("qa", username="qa-lead", full_name="Quinn Adeyemi")


def test_an_ftl_food_is_not_received_without_its_tlc(session: Session, walt: User) -> None:
    lots = count(session, Lot)
    with pytest.raises(Rejected) as refused:
        receive(session, walt)

    assert refused.value.for_field("tlc") == [
        "RM-BASIL is on the Food Traceability List: enter the traceability lot code (TLC) the "
        "source gave. If the source is exempt and gave none, assign ours."
    ]
    assert count(session, Lot) == lots


def test_the_sources_tlc_and_tlc_source_are_kept_beside_our_lot_code(
    session: Session, walt: User
) -> None:
    lot = receive(session, walt, tlc="SVG-0412-B", tlc_source="sup-grower")

    assert lot.lot_code == "BASIL-2611-01"  # our internal code, on our label
    assert (lot.tlc, lot.tlc_source_id) == ("SVG-0412-B", party(session, "SUP-GROWER").id)
    assert lot.supplier_id == party(session, "SUP-HERBCO").id  # the immediate previous source
    assert "lot.received" in audit_actions(session, entity_type="lot", entity_id=str(lot.id))

    by_reference = receive(session, walt, tlc="SVG-0413", tlc_source_reference="GLN 0614141000005")
    assert (by_reference.tlc, by_reference.tlc_source_id) == ("SVG-0413", None)
    assert by_reference.tlc_source_reference == "GLN 0614141000005"

    with pytest.raises(Rejected, match="Say where the TLC was assigned"):
        receive(session, walt, tlc="SVG-0414")
    with pytest.raises(Rejected, match="There is no active party 'SUP-NOBODY'"):
        receive(session, walt, tlc="SVG-0414", tlc_source="SUP-NOBODY")
    with pytest.raises(Rejected, match="bidirectional|invisible control"):
        receive(session, walt, tlc="\u202eSVG", tlc_source="SUP-GROWER")


def test_a_supplier_whose_lot_is_its_tlc_fills_it_from_the_scanned_ai_10(
    session: Session, walt: User
) -> None:
    scan, material = receipt.prefill_from_scan(session, f"]d201{BASIL_GTIN}1726120110SVG-0415")
    assert material is not None
    assert scan.lot is not None
    lot = receive(session, walt, "SUP-GROWER", supplier_lot=scan.lot)

    assert (lot.supplier_lot, lot.tlc) == ("SVG-0415", "SVG-0415")
    assert lot.tlc_source_id == party(session, "SUP-GROWER").id


def test_an_exempt_source_without_a_tlc_gets_ours_explicitly_with_our_site_as_source(
    session: Session, walt: User
) -> None:
    with pytest.raises(Rejected, match="Say why we assign the TLC"):
        receive(session, walt, assign_tlc=True)
    with pytest.raises(Rejected, match="The source gave a TLC: keep theirs"):
        receive(session, walt, assign_tlc=True, tlc="HB-1", assign_tlc_reason="Exempt farm")

    lot = receive(
        session, walt, assign_tlc=True,
        assign_tlc_reason="Small farm exempt under 1.1305(a); no TLC on its documents",
    )  # fmt: skip

    assert lot.tlc == lot.lot_code
    assert lot.tlc_source_id == party(session, "SITE-MAIN").id
    assert audit_actions(session, entity_type="lot", entity_id=str(lot.id)) == [
        "lot.received",
        "lot.tlc_assigned",
    ]
    with pytest.raises(Rejected, match="RM-ASC is not on the Food Traceability List"):
        receipt.receive(
            session, actor=walt, clock=at(NOW),
            new=ReceiptIn("RM-ASC", "SUP-NORTHBRIDGE", "S-1", "5", date(2028, 1, 1),
                          key=uuid.uuid4().hex, assign_tlc=True, assign_tlc_reason="x"),
        )  # fmt: skip


def test_the_demo_food_lots_carry_their_suppliers_tlcs(session: Session, walt: User) -> None:
    lot = session.exec(select(Lot).where(Lot.lot_code == "ASC-2409-02")).one()

    assert (lot.supplier_lot, lot.tlc) == ("S-77120", "S-77120")
    assert lot.tlc_source_id == party(session, "SUP-NORTHBRIDGE").id


def test_only_a_batch_makes_a_new_tlc_with_our_site_as_its_source(
    session: Session, walt: User
) -> None:
    batches.create_batch(
        session, actor=find_user(session, "sam"), new=BatchIn("VC500", "VC500-26-0042", "1000"),  # type: ignore[arg-type]
        clock=at(NOW),
    )  # fmt: skip
    lot, _ = output.receive_output(
        session, actor=walt, new=output.OutputIn("VC500", "VC500-26-0042", "1000", key="o-1"),
        clock=at(NOW),
    )  # fmt: skip

    assert (lot.lot_code, lot.tlc) == ("VC500-26-0042", "VC500-26-0042")
    assert lot.tlc_source_id == party(session, "SITE-MAIN").id


def test_shipping_passes_the_received_tlc_and_source_on_and_makes_none(
    session: Session, walt: User, qa: Signer
) -> None:
    lot = receive(session, walt, tlc="SVG-0412-B", tlc_source="SUP-GROWER")
    sign_lot(session, qa.user, lot, "released")
    lots = count(session, Lot)
    shipment = shipping.start_shipment(
        session, actor=walt, customer_code="CUST-GREENLEAF", reference="PO-1", clock=at(NOW)
    )
    shipping.add_line(
        session, actor=walt, shipment_no=shipment.shipment_no, scanned=lot.lot_code,
        quantity="5", key=uuid.uuid4().hex, clock=at(NOW),
        reason="Resold as it comes",  # a raw material: ships to a customer with a reason
    )  # fmt: skip
    shipping.despatch(
        session, actor=walt, shipment_no=shipment.shipment_no, key=uuid.uuid4().hex, clock=at(NOW)
    )

    [item] = despatch_advice.export(session, shipment, at(NOW)).content["lines"]
    assert item["traceability_lot_code"] == "SVG-0412-B"  # not our BASIL-2611-01
    assert item["lot_code"] == "BASIL-2611-01"
    assert item["tlc_source"]["business_name"] == "Salinas Valley Growers"
    assert item["tlc_source"]["fei"] == "3009876543"
    assert count(session, Lot) == lots
    assert lot.tlc == "SVG-0412-B"


def test_an_ftl_lot_without_a_tlc_cannot_ship(session: Session, walt: User, qa: Signer) -> None:
    """A lot received before its material was put on the list has no TLC: it is not shipped
    under a made-up one."""
    lot, _ = receipt.receive(
        session, actor=walt, clock=at(NOW),
        new=ReceiptIn("HSG-200", "SUP-POLYFORM", "P-1", "10", date(2030, 1, 1), key="r-1"),
    )  # fmt: skip
    sign_lot(session, qa.user, lot, "released")
    housing = materials.get_by_code(session, "HSG-200")
    assert housing is not None
    materials.update_material(
        session, actor=find_user(session, "ada"), material_id=housing.id,  # type: ignore[arg-type]
        new=MaterialIn("HSG-200", "Housing FS-200", "component", "pcs",
                       on_traceability_list=True, ftl_category="nut-butters"),
        reason="Test: on the list", clock=at(NOW),
    )  # fmt: skip
    shipment = shipping.start_shipment(
        session, actor=walt, customer_code="CUST-GREENLEAF", reference="", clock=at(NOW)
    )

    with pytest.raises(GateViolation, match="has no traceability lot code; it cannot ship"):
        shipping.add_line(
            session, actor=walt, shipment_no=shipment.shipment_no, scanned=lot.lot_code,
            quantity="1", key="p-1", clock=at(NOW),
        )  # fmt: skip


def test_an_ftl_material_names_its_category(session: Session, walt: User) -> None:
    ada = find_user(session, "ada")
    new = MaterialIn("RM-KALE", "Kale", "raw", "kg", on_traceability_list=True)
    with pytest.raises(Rejected, match="Choose the Food Traceability List category"):
        materials.create_material(session, actor=ada, new=new, clock=at(NOW))  # type: ignore[arg-type]
    with pytest.raises(Rejected, match="Choose a category of the Food Traceability List"):
        materials.create_material(
            session, actor=ada, clock=at(NOW),  # type: ignore[arg-type]
            new=MaterialIn("RM-KALE", "Kale", "raw", "kg", on_traceability_list=True,
                           ftl_category="vitamins"),
        )  # fmt: skip
    kale = materials.create_material(
        session, actor=ada, clock=at(NOW),  # type: ignore[arg-type]
        new=MaterialIn("RM-KALE", "Kale", "raw", "kg", on_traceability_list=True,
                       ftl_category="leafy-greens"),
    )  # fmt: skip
    assert (kale.on_traceability_list, kale.ftl_category) == (True, "leafy-greens")
