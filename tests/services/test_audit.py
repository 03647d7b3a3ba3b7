"""The audit trail (DESIGN §7, Part 11 §11.10(e)): same transaction, append-only, hash-chained."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from app.db import Database
from app.models import AuditEvent, User
from app.services.accounts import users
from app.services.core import audit
from app.services.core.actors import SystemActor
from app.services.core.errors import PermissionDenied, Rejected
from tests.clock import CLOCK
from tests.conftest import SYSTEM, audit_actions, behind_the_apps_back, count, drop_guards


def test_events_chain_each_to_the_previous(
    session: Session, make_user: Callable[..., User]
) -> None:
    make_user("admin")
    make_user("operator")
    events = list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))  # type: ignore[arg-type]
    assert len(events) == 2
    assert events[0].prev_hash == audit.GENESIS_HASH
    assert events[1].prev_hash == events[0].row_hash
    assert all(e.row_hash == audit.compute_row_hash(e) for e in events)
    assert audit.verify_chain(session).ok
    assert audit.verify_chain(session).checked == 2


def test_event_records_who_what_when_and_values(
    session: Session, make_user: Callable[..., User]
) -> None:
    admin = make_user("admin")
    target = make_user("operator")
    users.set_roles(
        session,
        actor=admin,
        user_id=target.id,
        roles=["operator", "qa"],
        reason="cross-trained",
        clock=CLOCK,
    )
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.roles_changed")).one()
    assert event.actor_id == admin.id
    assert event.actor_username == admin.username
    assert event.entity_type == "user"
    assert event.entity_id == str(target.id)
    assert '"roles":"operator"' in (event.before or "")
    assert '"roles":"operator,qa"' in (event.after or "")
    assert event.reason == "cross-trained"
    assert event.occurred_at.tzinfo is not None


def test_failed_change_leaves_no_audit_row(session: Session) -> None:
    before = count(session, AuditEvent)
    with pytest.raises(Rejected):
        users.create_user(
            session,
            actor=SYSTEM,
            new=users.NewUser("Bad Name!", "", ("operator",), "short"),
            clock=CLOCK,
        )
    assert count(session, AuditEvent) == before
    assert count(session, User) == 0


def test_audit_failure_rolls_back_the_change(
    connection: Connection, monkeypatch: pytest.MonkeyPatch, migrated_engine: object
) -> None:
    db = Database.__new__(Database)  # a Database bound to the test's transaction
    db.bind_to(connection)

    def broken_hash(event: AuditEvent) -> str:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "compute_row_hash", broken_hash)
    with pytest.raises(RuntimeError, match="audit store unavailable"), db.session_scope() as s:
        users.create_user(
            s,
            actor=SYSTEM,
            new=users.NewUser("rolled", "Rolled Back", ("qa",), "a-long-password"),
            clock=CLOCK,
        )
    with db.session_scope() as s:
        assert s.exec(select(User).where(User.username == "rolled")).first() is None
        assert count(s, AuditEvent) == 0


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_event SET reason = 'edited'", "DELETE FROM audit_event"]
)
def test_database_refuses_to_change_audit_rows(
    session: Session, make_user: Callable[..., User], statement: str
) -> None:
    make_user("admin")
    with (
        behind_the_apps_back(session),
        pytest.raises(DBAPIError, match="append-only"),
        session.begin_nested(),
    ):
        session.execute(text(statement))
    assert count(session, AuditEvent) == 1


def test_database_refuses_to_delete_users(session: Session, make_user: Callable[..., User]) -> None:
    make_user("operator")
    with (
        behind_the_apps_back(session),
        pytest.raises(DBAPIError, match="append-only"),
        session.begin_nested(),
    ):
        session.execute(text("DELETE FROM user_account"))
    assert count(session, User) == 1


def test_database_refuses_to_empty_the_audit_table(
    session: Session, make_user: Callable[..., User]
) -> None:
    make_user("operator")
    # SQLite has no TRUNCATE; its truncate optimisation is an unqualified DELETE.
    pg = session.get_bind().dialect.name == "postgresql"
    statement = "TRUNCATE audit_event CASCADE" if pg else "DELETE FROM audit_event"
    with (
        behind_the_apps_back(session),
        pytest.raises(DBAPIError, match="append-only"),
        session.begin_nested(),
    ):
        session.execute(text(statement))
    assert count(session, AuditEvent) == 1


def _drop_guard(session: Session) -> None:
    drop_guards(session, "audit_event")


def test_verify_names_the_first_altered_row(
    session: Session, make_user: Callable[..., User]
) -> None:
    for role in ("admin", "qa", "operator", "warehouse"):
        make_user(role)
    ids = list(session.exec(select(AuditEvent.id).order_by(AuditEvent.id)))  # type: ignore[arg-type]
    _drop_guard(session)
    session.execute(
        text('UPDATE audit_event SET after = \'{"roles":"admin"}\' WHERE id = :id'), {"id": ids[2]}
    )
    session.expire_all()
    report = audit.verify_chain(session)
    assert not report.ok
    assert report.broken_id == ids[2]
    assert report.checked == 2
    assert "content" in (report.problem or "")


def test_verify_detects_a_removed_row(session: Session, make_user: Callable[..., User]) -> None:
    for role in ("admin", "qa", "operator"):
        make_user(role)
    ids = list(session.exec(select(AuditEvent.id).order_by(AuditEvent.id)))  # type: ignore[arg-type]
    _drop_guard(session)
    session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[1]})
    session.expire_all()
    report = audit.verify_chain(session)
    assert report.broken_id == ids[2]
    assert "previous" in (report.problem or "")


def test_concurrent_writers_do_not_fork_the_chain(
    backend: str, app_database: Callable[[str], str]
) -> None:

    db = Database(app_database(backend))
    writers, per_writer = 4, 15
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_writer):
                with db.session_scope() as s:
                    audit.record(
                        s,
                        actor=SystemActor(f"cli:w{n}"),
                        action="test.append",
                        entity_type="test",
                        entity_id=f"{n}-{i}",
                        clock=CLOCK,
                    )
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session_scope() as s:
        report = audit.verify_chain(s)
        prev_hashes = list(s.exec(select(AuditEvent.prev_hash)))
    db.engine.dispose()
    assert report.ok, report
    assert report.checked == writers * per_writer
    assert len(set(prev_hashes)) == len(prev_hashes)  # no two rows chained onto one head


def test_audit_list_filters_by_entity_and_user(
    session: Session, make_user: Callable[..., User]
) -> None:
    admin = make_user("admin", username="adm")
    target = make_user("operator", username="opr")
    users.deactivate_user(
        session, actor=admin, user_id=target.id, reason="left the company", clock=CLOCK
    )
    by_entity = audit.list_events(
        session, viewer=admin, flt=audit.AuditFilter(entity_type="user", entity_id=str(target.id))
    )
    assert [e.action for e in by_entity] == ["user.deactivated", "user.created"]
    by_user = audit.list_events(session, viewer=admin, flt=audit.AuditFilter(username="ADM"))
    assert [e.action for e in by_user] == ["user.deactivated"]
    assert audit_actions(session, actor_username="cli:test") == ["user.created", "user.created"]


def test_operators_cannot_read_the_audit_trail(
    session: Session, make_user: Callable[..., User]
) -> None:
    operator = make_user("operator")
    with pytest.raises(PermissionDenied, match="audit trail"):
        audit.list_events(session, viewer=operator, flt=audit.AuditFilter())
