"""The despatch advice (issue 11 point 9): every FSMA 204 shipping KDE in its own column, the
plant's date for the ship date and the expiry gate, and the advice frozen at despatch with its
SHA-256, so a later edit of a party changes nothing sent and a tampered copy is refused."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

from app.models import DespatchAdvice, Shipment, User
from app.services.accounts.auth import find_user
from app.services.core.errors import GateViolation, Rejected
from app.services.masterdata import parties
from app.services.masterdata.parties import PartyIn
from app.services.trace import despatch_advice
from app.services.trace.despatch_advice import AdviceTampered
from app.services.warehouse import shipping
from tests.clock import at
from tests.conftest import count, drop_guards
from tests.food import food_plant, receive
from tests.signing import NOW, Signer, sign_lot

SHIPPING_KDE_COLUMNS = [
    "Event ID", "CTE type", "TLC", "Quantity", "UOM",
    "Product category code", "Product category name", "Product description", "Product code",
    "GTIN", "Pack size", "Pack style", "Event date",
    "Event location name", "Event location phone", "Event location address",
    "Event location city", "Event location state", "Event location zip", "Event location country",
    "Immediate subsequent recipient name", "Immediate subsequent recipient phone",
    "Immediate subsequent recipient address", "Immediate subsequent recipient city",
    "Immediate subsequent recipient state", "Immediate subsequent recipient zip",
    "Immediate subsequent recipient country",
    "TLC source location name", "TLC source location phone", "TLC source location address",
    "TLC source location city", "TLC source location state", "TLC source location zip",
    "TLC source location country", "TLC source reference",
    "Reference document type", "Reference document number",
    "Customer reference", "Internal lot code", "Expiry", "Reason shipped",
]  # fmt: skip
RESOLD = "Greenleaf's deli buys our basil as it comes"


@pytest.fixture
def walt(session: Session) -> User:
    return food_plant(session)


@pytest.fixture
def qa(make_signer: Callable[..., Signer]) -> Signer:
    return make_signer("qa", username="qa-lead", full_name="Quinn Adeyemi")


def ship_basil(
    session: Session, walt: User, qa: Signer, *, when: datetime = NOW, expiry: date | None = None
) -> Shipment:
    """Fresh basil from Herbco, its TLC assigned by the grower, shipped to Greenleaf at `when`
    (a raw material, so with the reason it ships to a customer)."""
    extra = {"tlc": "SVG-0412-B", "tlc_source": "SUP-GROWER"}
    lot = receive(session, walt, **extra)
    if expiry is not None:
        lot.expiry = expiry  # a lot received long ago, now near its end
        session.add(lot)
    sign_lot(session, qa.user, lot, "released")
    clock = at(when)
    shipment = shipping.start_shipment(
        session, actor=walt, customer_code="CUST-GREENLEAF", reference="PO-8812", clock=clock
    )
    shipping.add_line(
        session, actor=walt, shipment_no=shipment.shipment_no, scanned=lot.lot_code,
        quantity="5", key=uuid.uuid4().hex, clock=clock, reason=RESOLD,
    )  # fmt: skip
    shipping.despatch(
        session, actor=walt, shipment_no=shipment.shipment_no, key=uuid.uuid4().hex, clock=clock
    )
    return shipment


def exported_csv(session: Session, shipment: Shipment) -> str:
    advice = despatch_advice.export(session, shipment, at(NOW))
    return despatch_advice.despatch_advice_csv(advice.content)


def test_the_advice_carries_every_shipping_kde_in_its_own_column(
    session: Session, walt: User, qa: Signer
) -> None:
    shipment = ship_basil(session, walt, qa)

    [row] = list(csv.DictReader(io.StringIO(exported_csv(session, shipment))))

    assert list(row) == SHIPPING_KDE_COLUMNS
    assert row["Event ID"] == shipment.shipment_no
    assert (row["CTE type"], row["TLC"], row["Quantity"], row["UOM"]) == (
        "Shipping", "SVG-0412-B", "5", "kg",
    )  # fmt: skip
    assert (row["Product category code"], row["Product category name"]) == (
        "herbs",
        "Herbs (fresh)",
    )
    assert (row["Product description"], row["Pack size"], row["Pack style"]) == (
        "Fresh basil", "1 kg", "clamshell",
    )  # fmt: skip
    assert row["Event date"] == "2026-11-22"
    assert row["Event location name"] == "Batchbook Demo Manufacturing LLC"
    assert row["Event location phone"] == "'+1 608 555 0100"  # kept as text in a spreadsheet
    assert row["Immediate subsequent recipient name"] == "Greenleaf Pharmacy"
    assert row["Immediate subsequent recipient phone"] == "'+1 503 555 0187"
    assert row["Immediate subsequent recipient address"] == "1420 NW Lovejoy Street"
    assert row["Immediate subsequent recipient state"] == "OR"
    assert row["Immediate subsequent recipient zip"] == "97209"
    assert row["TLC source location name"] == "Salinas Valley Growers"
    assert row["TLC source location address"] == "1 Field Road"
    assert row["TLC source location city"] == "Salinas"
    assert row["TLC source reference"] == "FEI 3009876543"
    assert (row["Reference document type"], row["Reference document number"]) == (
        "Despatch advice", shipment.shipment_no,
    )  # fmt: skip
    assert (row["Customer reference"], row["Internal lot code"]) == ("PO-8812", "BASIL-2611-01")
    assert row["Reason shipped"] == RESOLD


def test_the_ship_date_and_the_expiry_gate_use_the_plants_date(
    session: Session, walt: User, qa: Signer
) -> None:
    late = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # already 23 November in Berlin
    shipment = ship_basil(session, walt, qa, when=late)

    assert despatch_advice.export(session, shipment, at(late)).content["ship_date"] == "2026-11-23"

    with pytest.raises(GateViolation, match="expired on 2026-11-22"):
        ship_basil(session, walt, qa, when=late, expiry=date(2026, 11, 22))


def test_a_party_edited_after_despatch_leaves_the_advice_as_sent(
    session: Session, walt: User, qa: Signer
) -> None:
    shipment = ship_basil(session, walt, qa)
    sent = exported_csv(session, shipment)
    greenleaf = parties.get_by_code(session, "CUST-GREENLEAF")
    assert greenleaf is not None

    parties.update_party(
        session, actor=find_user(session, "ada"), party_id=greenleaf.id,  # type: ignore[arg-type]
        new=PartyIn("CUST-GREENLEAF", "customer", "Greenleaf Pharmacy", "+1 503 555 0999",
                    "77 New Street", "Salem", "OR", "97301", "US"),
        reason="Moved", clock=at(NOW),
    )  # fmt: skip

    assert exported_csv(session, shipment) == sent
    assert "1420 NW Lovejoy Street" in sent
    assert "77 New Street" not in exported_csv(session, shipment)


def test_the_advice_is_frozen_with_its_hash_and_is_append_only(
    session: Session, walt: User, qa: Signer
) -> None:
    shipment = ship_basil(session, walt, qa)
    advice = despatch_advice.export(session, shipment, at(NOW))

    assert advice.frozen is not None
    assert advice.frozen.format == 1
    assert len(advice.frozen.sha256) == 64
    assert count(session, DespatchAdvice) == 1
    with (
        pytest.raises(DatabaseError, match="append-only|permission denied"),
        session.begin_nested(),
    ):
        session.execute(text("UPDATE despatch_advice SET content = '{}'"))


def test_a_tampered_advice_is_reported_and_not_exported(
    session: Session, walt: User, qa: Signer
) -> None:
    shipment = ship_basil(session, walt, qa)
    drop_guards(session, "despatch_advice")
    session.execute(
        text("UPDATE despatch_advice SET content = replace(content, 'Portland', 'Seattle')")
    )
    session.expire_all()

    with pytest.raises(AdviceTampered, match="does not match the SHA-256 it was frozen with"):
        despatch_advice.export(session, shipment, at(NOW))
    shown = despatch_advice.despatch_advice(session, shipment, at(NOW))
    assert shown.problem is not None
    assert "changed after despatch" in shown.problem


def test_two_despatches_of_one_shipment_ship_it_once(
    session: Session, walt: User, qa: Signer
) -> None:
    shipment = ship_basil(session, walt, qa)

    with pytest.raises(Rejected, match="has already shipped"):
        shipping.despatch(
            session, actor=walt, shipment_no=shipment.shipment_no, key="other", clock=at(NOW)
        )
    assert count(session, DespatchAdvice) == 1
