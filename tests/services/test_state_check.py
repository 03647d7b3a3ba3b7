"""State agrees with its evidence (issue 9 point 8): a status written behind the app's back
(as the app's own database role could) leaves the hash chain and every signature intact, but
replaying the audit trail and the signatures names the record."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.models import Lot, User
from app.services.accounts.auth import find_user
from app.services.core.state_check import disagreements
from app.services.demo import seed_demo
from app.services.warehouse import receipt
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM
from tests.signing import Signer, sign_lot


@pytest.fixture
def plant(session: Session) -> User:
    """The demo plant; returns walt, who receives."""
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    return find_user(session, "walt")  # type: ignore[return-value]


def _receive(session: Session, walt: User) -> Lot:
    lot, _label = receipt.receive(
        session,
        actor=walt,
        new=ReceiptIn(
            "RM-ASC", "SUP-NORTHBRIDGE", "S-1", "10", date(2028, 5, 31), "1", key=uuid.uuid4().hex
        ),
        clock=CLOCK,
    )
    return lot


def _tamper(session: Session, table: str, status: str, row_id: int) -> None:
    """What the app's own role may do by hand (it holds UPDATE on these tables)."""
    session.execute(
        text(f"UPDATE {table} SET status = :s WHERE id = :id"), {"s": status, "id": row_id}
    )
    session.expire_all()


def test_a_plant_run_through_the_services_agrees_with_its_trail(
    session: Session, plant: User, make_signer: Callable[..., Signer]
) -> None:
    qa = make_signer("qa")
    sign_lot(session, qa.user, _receive(session, plant), "released")
    _receive(session, plant)  # and one left in quarantine
    assert disagreements(session) == []


def test_a_lot_released_by_hand_is_named(session: Session, plant: User) -> None:
    lot = _receive(session, plant)
    _tamper(session, "lot", "released", lot.id)  # type: ignore[arg-type]
    found = disagreements(session)
    assert [d.record for d in found] == [f"lot {lot.lot_code}"]
    assert "'released'" in found[0].problem and "'quarantine'" in found[0].problem
    assert "behind the app's back" in found[0].problem


def test_a_status_event_without_its_signature_is_named(
    session: Session, plant: User, make_signer: Callable[..., Signer]
) -> None:
    """Even a forged audit event cannot stand in for the QC signature a release needs."""
    from app.services.core import audit

    lot = _receive(session, plant)
    audit.record(
        session, actor=SYSTEM, action="lot.released", entity_type="lot", entity_id=lot.id,
        after={"status": "released"}, clock=CLOCK,
    )  # fmt: skip
    _tamper(session, "lot", "released", lot.id)  # type: ignore[arg-type]
    found = disagreements(session)
    assert [d.record for d in found] == [f"lot {lot.lot_code}"]
    assert "without a 'released' signature" in found[0].problem


def test_a_revision_and_a_shipment_changed_by_hand_are_named(session: Session, plant: User) -> None:
    from app.services.mbr import revisions
    from app.services.mbr.revisions import HeaderIn
    from app.services.warehouse import shipping

    revision = revisions.create_recipe(
        session, actor=find_user(session, "ada"), code="TEST-1", name="Test product",
        header=HeaderIn(batch_size="1000", batch_unit="tablets", sop_codes="SOP-QA-001"),
        clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    shipment = shipping.start_shipment(
        session, actor=plant, customer_code="CUST-GREENLEAF", reference="PO-1", clock=CLOCK
    )
    assert disagreements(session) == []
    _tamper(session, "recipe_revision", "in_review", revision.id)  # type: ignore[arg-type]
    _tamper(session, "shipment", "shipped", shipment.id)  # type: ignore[arg-type]
    named = {d.record for d in disagreements(session)}
    assert f"shipment {shipment.shipment_no}" in named
    assert any(r.startswith(f"master record revision #{revision.id} ") for r in named)


def test_a_lot_released_by_hand_cannot_be_issued_or_shipped(session: Session, plant: User) -> None:
    """The table says released; nothing on record does: the gate refuses to rely on it."""
    from app.services.core.errors import GateViolation
    from app.services.execution import batches
    from app.services.execution.batches import BatchIn
    from app.services.warehouse import issuing, shipping
    from app.services.warehouse.issuing import IssueIn

    batches.create_batch(
        session, actor=find_user(session, "sam"), new=BatchIn("VC500", "VC500-26-0099", "100000"),
        clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    lot = _receive(session, plant)
    _tamper(session, "lot", "released", lot.id)  # type: ignore[arg-type]
    with pytest.raises(GateViolation, match="cannot be used: .*behind the app's back"):
        issuing.issue(
            session, actor=plant, new=IssueIn(lot.lot_code, "1", "VC500-26-0099", key="k1"),
            clock=CLOCK,
        )  # fmt: skip
    shipment = shipping.start_shipment(
        session, actor=plant, customer_code="CUST-GREENLEAF", reference="PO-9", clock=CLOCK
    )
    with pytest.raises(GateViolation, match="cannot be used"):
        shipping.add_line(
            session, actor=plant, shipment_no=shipment.shipment_no, scanned=lot.lot_code,
            quantity="1", key="k2", clock=CLOCK,
        )  # fmt: skip
