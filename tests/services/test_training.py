"""Training records (issue 11 points 2 and 5): nobody records their own training, and a record
beside one still valid needs a reason, kept, audited and shown; no record is ever edited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from app.models import AuditEvent, TrainingRecord, User
from app.services.core.errors import Rejected
from app.services.masterdata import training
from tests.clock import CLOCK, NOW, at
from tests.conftest import SYSTEM, count


@pytest.fixture
def curriculum(session: Session) -> None:
    training.create_curriculum(
        session, actor=SYSTEM, code="VC500", title="VC500 MBR", kind="mbr", validity_days=365,
        clock=CLOCK,
    )  # fmt: skip


def test_qa_cannot_record_their_own_training(
    session: Session, curriculum: None, make_user: Callable[..., User]
) -> None:
    qa = make_user("qa", full_name="Quinn Adeyemi")
    with pytest.raises(Rejected) as refused:
        training.record_training(
            session, actor=qa, user_id=qa.id, curriculum_code="VC500", trained_on=NOW.date(),
            clock=CLOCK,
        )  # type: ignore[arg-type]  # fmt: skip
    assert refused.value.for_field("user_id") == [
        "You cannot record your own training; another admin or QA person records it."
    ]
    assert count(session, TrainingRecord) == 0
    # Another QA person records it.
    other = make_user("qa")
    training.record_training(
        session, actor=other, user_id=qa.id, curriculum_code="VC500", trained_on=NOW.date(),
        clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    assert count(session, TrainingRecord) == 1


def test_a_record_beside_a_valid_one_needs_a_reason_kept_and_audited(
    session: Session, curriculum: None, make_user: Callable[..., User]
) -> None:
    person = make_user("operator", full_name="Olivia Okafor")
    qa = make_user("qa")
    first = training.record_training(
        session, actor=qa, user_id=person.id, curriculum_code="VC500",
        trained_on=(NOW - timedelta(days=10)).date(), clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    assert first.reason is None

    with pytest.raises(Rejected) as refused:
        training.record_training(
            session, actor=qa, user_id=person.id, curriculum_code="VC500",
            trained_on=NOW.date(), clock=CLOCK,
        )  # type: ignore[arg-type]  # fmt: skip
    [message] = refused.value.for_field("reason")
    assert message.startswith("Olivia Okafor is trained on VC500 until ")
    assert "Give the reason for it." in message
    assert count(session, TrainingRecord) == 1

    second = training.record_training(
        session, actor=qa, user_id=person.id, curriculum_code="VC500", trained_on=NOW.date(),
        reason="Retrained after a deviation", clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip

    assert second.reason == "Retrained after a deviation"
    assert (first.trained_on, first.reason) == ((NOW - timedelta(days=10)).date(), None)
    event = session.exec(
        select(AuditEvent).where(AuditEvent.action == "training.recorded")
        .order_by(AuditEvent.id.desc())  # type: ignore[union-attr]
    ).first()  # fmt: skip
    assert event is not None and event.reason == "Retrained after a deviation"
    person_, entries = training.history(session, user_id=person.id)  # type: ignore[arg-type]
    assert person_ == person
    assert [(e.record.id, e.record.reason) for e in entries] == [
        (second.id, "Retrained after a deviation"),
        (first.id, None),
    ]


def test_no_reason_is_needed_once_the_earlier_record_expired(
    session: Session, curriculum: None, make_user: Callable[..., User]
) -> None:
    person = make_user("operator")
    qa = make_user("qa")
    training.record_training(
        session, actor=qa, user_id=person.id, curriculum_code="VC500",
        trained_on=(NOW - timedelta(days=400)).date(), clock=at(NOW),
    )  # type: ignore[arg-type]  # fmt: skip
    again = training.record_training(
        session, actor=qa, user_id=person.id, curriculum_code="VC500", trained_on=NOW.date(),
        reason="ignored", clock=at(NOW),
    )  # type: ignore[arg-type]  # fmt: skip
    assert again.reason is None


def test_training_records_are_never_changed_in_the_database(
    session: Session, curriculum: None, make_user: Callable[..., User]
) -> None:
    person = make_user("operator")
    record = training.record_training(
        session, actor=make_user("qa"), user_id=person.id, curriculum_code="VC500",
        trained_on=NOW.date(), clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    with pytest.raises(DatabaseError, match="append-only|permission denied"):  # noqa: SIM117
        with session.begin_nested():
            session.execute(
                text("UPDATE training_record SET reason = 'later' WHERE id = :id"),
                {"id": record.id},
            )
