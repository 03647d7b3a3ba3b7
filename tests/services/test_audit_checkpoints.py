"""The audit trail is contemporaneous and cannot be rewritten unseen (issue 9 point 7): events
carry the time of writing (the database's clock on PostgreSQL), `verify` flags time going
backwards, and signed checkpoints kept outside the database expose a trail cut short at its end
or rewritten and recomputed by someone holding the database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from app.models import AuditEvent
from app.services.core import audit
from app.services.core.checkpoints import LOG_FILE, CheckpointStore, check_chain
from tests.clock import CLOCK, at
from tests.conftest import SYSTEM, drop_guards
from tests.signing import NOW


def _events(session: Session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))))


def _superuser_without_guards(session: Session) -> None:
    """Behind the app's back: the owner, the append-only and time-of-writing triggers gone."""
    drop_guards(session, "audit_event", "audit_event_time_of_writing")


def _rewrite_and_recompute(session: Session, event_id: int, **changes: object) -> None:
    """Change one event and recompute every hash from it on, so the chain itself verifies."""
    prev = audit.GENESIS_HASH
    for event in _events(session):
        if event.id == event_id:
            for name, value in changes.items():
                setattr(event, name, value)
        event.prev_hash = prev
        event.row_hash = audit.compute_row_hash(event)
        session.execute(
            text(
                "UPDATE audit_event SET prev_hash = :p, row_hash = :h, occurred_at = :t,"
                " actor_username = :u WHERE id = :id"
            ),
            {
                "p": event.prev_hash,
                "h": event.row_hash,
                "t": event.occurred_at,
                "u": event.actor_username,
                "id": event.id,
            },
        )
        prev = event.row_hash
    session.expire_all()


def _record(session: Session, n: int, clock: object = CLOCK) -> None:
    for i in range(n):
        audit.record(
            session, actor=SYSTEM, action="test.event", entity_type="test", entity_id=i,
            clock=clock,  # type: ignore[arg-type]
        )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> CheckpointStore:
    return CheckpointStore(tmp_path / "checkpoints")


def test_an_event_is_dated_when_it_is_written_not_when_the_caller_says(session: Session) -> None:
    """On PostgreSQL the database's clock dates every event: a caller passing an old date
    (event #55 dated 2024-09-24 right after #54 of 2026-12-03) cannot backdate it. The
    embedded database has no clock of its own: there the app's clock (the server's) dates it."""
    old = datetime(2024, 9, 24, 8, 0, tzinfo=UTC)
    _record(session, 1, at(old))
    written = _events(session)[-1].occurred_at
    if session.get_bind().dialect.name == "postgresql":
        database_now = session.execute(text("SELECT clock_timestamp()")).scalar_one()
        assert abs(database_now - written) < timedelta(seconds=5)
    else:
        assert written == old


def test_a_backdated_event_inserted_behind_the_apps_back_is_refused_or_named(
    session: Session,
) -> None:
    """PostgreSQL refuses it outright, whoever inserts it; on the embedded database `verify`
    names it."""
    _record(session, 2)
    insert = text(
        "INSERT INTO audit_event (occurred_at, actor_username, action, entity_type,"
        " entity_id, prev_hash, row_hash) VALUES ('2024-09-24 08:00:00+00:00', 'x', 'a', 'e',"
        " '1', :prev, 'h')"
    )
    head = {"prev": _events(session)[-1].row_hash}
    if session.get_bind().dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="time of writing"), session.begin_nested():
            session.execute(insert, head)
        return
    session.execute(insert, head)
    report = audit.verify_chain(session)
    assert report.broken_id == _events(session)[-1].id


def test_verify_flags_time_going_backwards_even_with_every_hash_recomputed(
    session: Session,
) -> None:
    _record(session, 4)
    victim = _events(session)[2]
    _superuser_without_guards(session)
    _rewrite_and_recompute(session, victim.id, occurred_at=victim.occurred_at - timedelta(days=800))  # type: ignore[arg-type]
    report = audit.verify_chain(session)
    assert report.broken_id == victim.id
    assert "before the previous event" in (report.problem or "")


def test_a_clock_set_back_shows_in_verify_or_cannot_happen(session: Session) -> None:
    """On SQLite the app's clock dates events, and a clock set back shows in `verify`; on
    PostgreSQL the same calls are dated by the database and the trail stays in order."""
    _record(session, 2, at(NOW))
    _record(session, 1, at(NOW - timedelta(hours=1)))
    report = audit.verify_chain(session)
    if session.get_bind().dialect.name == "postgresql":
        assert report.ok
    else:
        assert report.broken_id == _events(session)[-1].id
        assert "before the previous event" in (report.problem or "")


def test_a_signed_checkpoint_names_events_removed_from_the_end(
    session: Session, store: CheckpointStore
) -> None:
    _record(session, 12)
    checkpoint = store.write(session, clock=CLOCK)
    assert checkpoint is not None and checkpoint.events == 12
    assert check_chain(session, store) == []

    _superuser_without_guards(session)
    last_ten = [e.id for e in _events(session)][-10:]
    session.execute(text("DELETE FROM audit_event WHERE id >= :first"), {"first": last_ten[0]})
    assert audit.verify_chain(session).ok  # the shortened chain is still a valid chain...
    problems = check_chain(session, store)
    assert len(problems) == 1 and "events were removed" in problems[0]  # ...the checkpoint knows
    assert f"#{checkpoint.event_id}" in problems[0]


def test_a_signed_checkpoint_names_a_chain_rewritten_and_recomputed(
    session: Session, store: CheckpointStore
) -> None:
    _record(session, 5)
    store.write(session, clock=CLOCK)
    victim = _events(session)[1]
    _superuser_without_guards(session)
    _rewrite_and_recompute(session, victim.id, actor_username="somebody-else")  # type: ignore[arg-type]
    assert audit.verify_chain(session).ok  # every hash recomputed: the chain alone is fooled
    problems = check_chain(session, store)
    assert len(problems) == 1 and "rewritten and recomputed" in problems[0]


def test_an_edited_checkpoint_line_is_named_not_trusted(
    session: Session, store: CheckpointStore
) -> None:
    _record(session, 3)
    store.write(session, clock=CLOCK)
    log = store.folder / LOG_FILE
    line = json.loads(log.read_text())
    line["event_id"] = 1  # pretend the trail was shorter when signed
    log.write_text(json.dumps(line) + "\n")
    problems = check_chain(session, store)
    assert len(problems) == 1 and "not signed by this plant's checkpoint key" in problems[0]


def test_the_key_is_made_once_readable_by_the_server_only(
    session: Session, store: CheckpointStore
) -> None:
    _record(session, 1)
    first = store.write(session, clock=CLOCK)
    second = store.write(session, clock=CLOCK)
    assert first is not None and second is not None and first.key_id == second.key_id
    key = store.folder / "checkpoint-key.pem"
    assert key.stat().st_mode & 0o077 == 0
    assert len(store.read()[0]) == 2


def test_an_empty_trail_has_nothing_to_checkpoint(session: Session, store: CheckpointStore) -> None:
    assert store.write(session, clock=CLOCK) is None
    assert check_chain(session, store) == []
