"""The audit trail: append-only, hash-chained, written in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from app.canonical import canonical_json, sha256_hex
from app.models import AuditEvent, Role, User
from app.services.core.actors import Actor, actor_identity, require_role
from app.services.core.clock import Clock

GENESIS_HASH = "0" * 64
# An arbitrary constant naming "the audit chain" in PostgreSQL's advisory-lock space.
_CHAIN_LOCK_KEY = 0x62617463  # "batc"


def _hashed_content(event: AuditEvent) -> str:
    return canonical_json(
        {
            "occurred_at": event.occurred_at,
            "actor_id": event.actor_id,
            "actor_username": event.actor_username,
            "action": event.action,
            "entity_type": event.entity_type,
            "entity_id": event.entity_id,
            "before": event.before,
            "after": event.after,
            "reason": event.reason,
            "prev_hash": event.prev_hash,
        }
    )


def compute_row_hash(event: AuditEvent) -> str:
    return sha256_hex(_hashed_content(event))


def _time_of_writing(session: Session, clock: Clock) -> datetime:
    """When the event is written: the database's clock on PostgreSQL (one clock for every app
    server, not the caller's), the app's clock on the embedded database (the same machine)."""
    if session.get_bind().dialect.name == "postgresql":
        return session.execute(text("SELECT clock_timestamp()")).scalar_one()  # type: ignore[no-any-return]
    return clock.now()


def _lock_chain_head(session: Session) -> str:
    """Serialise appenders so two transactions never chain onto the same head."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    # On SQLite every transaction starts with BEGIN IMMEDIATE (app/db.py): already exclusive.
    head = session.exec(
        select(AuditEvent.row_hash).order_by(col(AuditEvent.id).desc()).limit(1)
    ).first()
    return head or GENESIS_HASH


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    entity_type: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    clock: Clock,
) -> AuditEvent:
    """Append one audit event to the chain (flushes; the caller's transaction commits it). Its
    time is the time of writing, never one the caller chooses."""
    actor_id, actor_username = actor_identity(actor)
    prev_hash = _lock_chain_head(session)  # first: times then follow the chain's order
    event = AuditEvent(  # type: ignore[call-arg]
        occurred_at=_time_of_writing(session, clock),
        actor_id=actor_id,
        actor_username=actor_username,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=canonical_json(before) if before is not None else None,
        after=canonical_json(after) if after is not None else None,
        reason=reason,
        prev_hash=prev_hash,
    )
    event.row_hash = compute_row_hash(event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_id: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify_chain(session: Session) -> ChainReport:
    """Recompute every row's hash in order; report the first row that does not chain."""
    expected_prev = GENESIS_HASH
    previous_time: datetime | None = None
    checked = 0
    rows = session.exec(
        select(AuditEvent).order_by(col(AuditEvent.id)).execution_options(yield_per=1000)
    )
    try:
        for event in rows:
            if event.prev_hash != expected_prev:
                return ChainReport(
                    checked, event.id, "its previous-hash does not match the row before"
                )
            if compute_row_hash(event) != event.row_hash:
                return ChainReport(checked, event.id, "its content does not match its hash")
            if previous_time is not None and event.occurred_at < previous_time:
                return ChainReport(
                    checked,
                    event.id,
                    f"its time {event.occurred_at.isoformat()} is before the previous event's "
                    f"{previous_time.isoformat()}: not written when it says",
                )
            expected_prev, previous_time = event.row_hash, event.occurred_at
            checked += 1
    finally:
        rows.close()  # a server-side cursor on PostgreSQL; do not leave it open on early return
    return ChainReport(checked)


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    username: str | None = None
    limit: int = 200


READERS = (Role.QA, Role.ADMIN, Role.SUPERVISOR)  # who reads the audit trail


def may_read(user: User) -> bool:
    """Whether `user` may read the audit trail (`list_events` refuses everyone else)."""
    return user.active and user.has_role(*READERS)


def list_events(session: Session, *, viewer: User, flt: AuditFilter) -> list[AuditEvent]:
    """Newest first, filtered by entity and/or user. Raises PermissionDenied for other roles."""
    require_role(viewer, *READERS, action="view the audit trail")
    query = select(AuditEvent)
    if flt.entity_type:
        query = query.where(AuditEvent.entity_type == flt.entity_type)
    if flt.entity_id:
        query = query.where(AuditEvent.entity_id == flt.entity_id)
    if flt.username:
        query = query.where(AuditEvent.actor_username == flt.username.strip().lower())
    query = query.order_by(col(AuditEvent.id).desc()).limit(flt.limit)
    return list(session.exec(query))


def entity_types(session: Session) -> list[str]:
    return list(session.exec(select(AuditEvent.entity_type).distinct().order_by("entity_type")))
