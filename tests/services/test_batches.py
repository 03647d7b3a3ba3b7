"""Batches are made from the effective revision only, with the bill of materials scaled and
frozen; only supervisors (and admins) create them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

from app.models import Batch, User
from app.services.accounts.auth import find_user
from app.services.core.errors import GateViolation, PermissionDenied, Rejected
from app.services.demo import seed_demo
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from app.services.mbr import revisions
from app.services.mbr.revisions import HeaderIn
from tests.clock import CLOCK, at
from tests.conftest import SYSTEM, audit_actions, count
from tests.signing import NOW


@pytest.fixture
def sam(session: Session) -> User:
    seed_demo(session, actor=SYSTEM, clock=at(NOW))
    return find_user(session, "sam")  # type: ignore[return-value]


def test_a_batch_scales_the_effective_bom_and_freezes_it(session: Session, sam: User) -> None:
    batch = batches.create_batch(
        session,
        actor=sam,
        new=BatchIn("vc500", "vc500-26-0042", "50000", customer_po="PO-5512"),
        clock=at(NOW),
    )

    view = batches.load_batch(session, "VC500-26-0042")
    assert view.title == "VC500 rev B"
    assert (batch.planned_quantity, batch.unit, batch.status) == (
        Decimal("50000"),
        "tablets",
        "planned",
    )
    assert [(m.code, line.quantity, line.tolerance) for line, m in view.materials] == [
        ("RM-ASC", Decimal("27.5"), Decimal("0.5")),
        ("RM-MCC", Decimal("10.0"), Decimal("1")),
        ("RM-MGS", Decimal("0.25"), Decimal("2")),
    ]
    assert audit_actions(session, entity_type="batch") == ["batch.created"]
    with pytest.raises(DatabaseError, match="append-only"), session.begin_nested():
        session.execute(text("UPDATE batch_material SET quantity = '1'"))


def test_no_batch_without_an_effective_revision(session: Session, sam: User) -> None:
    ada = find_user(session, "ada")
    revisions.create_recipe(
        session,
        actor=ada,
        code="NEW-1",
        name="Draft only",
        header=HeaderIn("10", "kg"),
        clock=CLOCK,
    )  # type: ignore[arg-type]
    with pytest.raises(GateViolation, match="NEW-1 has no effective master batch record"):
        batches.create_batch(session, actor=sam, new=BatchIn("NEW-1", "N-1", "10"), clock=at(NOW))
    assert count(session, Batch) == 0


def test_batch_numbers_are_unique_and_quantities_positive(session: Session, sam: User) -> None:
    batches.create_batch(session, actor=sam, new=BatchIn("VC500", "B-1", "1000"), clock=at(NOW))
    with pytest.raises(Rejected) as refused:
        batches.create_batch(session, actor=sam, new=BatchIn("VC500", "b-1", "-5"), clock=at(NOW))
    assert {v.field: v.message for v in refused.value.violations} == {
        "batch_no": "Batch B-1 already exists.",
        "planned": "The quantity must be more than zero.",
    }


def test_operators_do_not_create_batches(
    session: Session, sam: User, make_user: Callable[..., User]
) -> None:
    with pytest.raises(PermissionDenied, match="Only Supervisor or Admin can create batches"):
        batches.create_batch(
            session, actor=make_user("operator"), new=BatchIn("VC500", "B-2", "1"), clock=at(NOW)
        )
