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


def _bom(session: Session, batch_no: str) -> list[tuple[str, str, str]]:
    view = batches.load_batch(session, batch_no)
    return [(m.code, str(line.quantity), str(line.tolerance)) for line, m in view.materials]


def test_scaled_targets_keep_the_gram_and_their_tolerance(session: Session, sam: User) -> None:
    """VC500 rev B asks 55.0 kg ascorbic acid ±0.5 %, 20.0 kg cellulose ±1 % and 0.50 kg
    magnesium stearate ±2 % per 100,000 tablets. Kept to the master's 0.1 or 0.01 kg, a
    1,000-tablet batch asked 0.6 kg (+9 %) and 0.00 kg; a 37,000-tablet one 0.18 kg (-2.7 %)."""
    batches.create_batch(session, actor=sam, new=BatchIn("VC500", "B-1000", "1000"), clock=at(NOW))
    batches.create_batch(
        session, actor=sam, new=BatchIn("VC500", "B-37000", "37000"), clock=at(NOW)
    )

    assert _bom(session, "B-1000") == [
        ("RM-ASC", "0.550", "0.5"),
        ("RM-MCC", "0.200", "1"),
        ("RM-MGS", "0.005", "2"),
    ]
    assert _bom(session, "B-37000") == [
        ("RM-ASC", "20.350", "0.5"),
        ("RM-MCC", "7.400", "1"),
        ("RM-MGS", "0.185", "2"),
    ]


def test_a_batch_too_small_to_weigh_within_tolerance_is_refused(
    session: Session, sam: User
) -> None:
    """100 tablets would need 0.0005 kg of magnesium stearate: to the gram that is 0.000 or
    0.001 kg, 100 % off a ±2 % tolerance. The batch size is refused, nothing is written."""
    with pytest.raises(Rejected) as refused:
        batches.create_batch(
            session, actor=sam, new=BatchIn("VC500", "B-100", "100"), clock=at(NOW)
        )

    assert [(v.field, v.message) for v in refused.value.violations] == [
        (
            "planned",
            "RM-MGS would need 0.0005 kg, which cannot be weighed to ±2 % in steps of "
            "0.001 kg; choose a larger batch.",
        )
    ]
    assert count(session, Batch) == 0
    assert audit_actions(session, entity_type="batch") == []


def test_counted_parts_scale_whole_with_their_absolute_tolerance(
    session: Session, sam: User
) -> None:
    """FS-200 takes 10 of each part per 10 sensors, ±0 pcs: 5 sensors take 5 of each, kept
    whole (not "5.0"), the absolute tolerance scaled with them."""
    batches.create_batch(session, actor=sam, new=BatchIn("FS-200", "FS-5", "5"), clock=at(NOW))
    assert {(q, t) for _, q, t in _bom(session, "FS-5")} == {("5", "0")}
