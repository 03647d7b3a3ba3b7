"""Server-side sessions (Part 11 §11.10(d), §11.300: access ends when it should).

A browser holds only a random token; the session (who, which browser, since when, last seen,
ended) lives here, so every app server sees one truth and an ended session cannot be revived
by replaying a saved cookie. Sign-out, the inactivity timeout, a lockout, deactivation and an
admin end sessions. Rows are never deleted.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.models import Role, User, WebSession
from app.services.core import audit
from app.services.core.actors import Actor, require_role
from app.services.core.clock import Clock
from app.services.core.errors import NotFound

# Why a session ended (kept on the row).
SIGNED_OUT = "signed out"
IDLE = "idle timeout"
REPLACED = "replaced at sign-in"
LOCKED = "account locked"
DEACTIVATED = "account deactivated"
ENDED_BY_ADMIN = "ended by an admin"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_open(session: Session, token: str | None) -> WebSession | None:
    """The open session this cookie token names, or None (unknown, malformed or ended)."""
    if not token or len(token) > 100:
        return None
    row = session.exec(select(WebSession).where(WebSession.token_hash == _hash(token))).first()
    return row if row is not None and row.ended_at is None else None


def start(
    session: Session, *, data: str, user_id: int | None, device: str, clock: Clock
) -> tuple[str, WebSession]:
    """A new session; returns the token for the cookie (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    row = WebSession(
        token_hash=_hash(token),
        user_id=user_id,
        device=device[:200],
        created_at=now,
        last_seen_at=now,
        data=data,
    )
    session.add(row)
    session.flush()
    return token, row


def is_idle(row: WebSession, *, idle_seconds: int, clock: Clock) -> bool:
    return clock.now() - row.last_seen_at > timedelta(seconds=idle_seconds)


def end_by_id(session: Session, session_id: int, *, reason: str, clock: Clock) -> None:
    """End one session (no-op if it has ended already)."""
    _end_where(session, col(WebSession.id) == session_id, reason=reason, now=clock.now())


def end_all_for(session: Session, *, user_id: int | None, reason: str, clock: Clock) -> int:
    """End every open session of a person (lockout, deactivation, an admin); returns how many."""
    if user_id is None:
        return 0
    return _end_where(session, col(WebSession.user_id) == user_id, reason=reason, now=clock.now())


def _end_where(session: Session, where: object, *, reason: str, now: datetime) -> int:
    result = session.execute(
        update(WebSession)
        .where(where, col(WebSession.ended_at).is_(None))  # type: ignore[arg-type]
        .values(ended_at=now, end_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def open_sessions(session: Session, *, user_id: int) -> list[WebSession]:
    return list(
        session.exec(
            select(WebSession)
            .where(WebSession.user_id == user_id, col(WebSession.ended_at).is_(None))
            .order_by(col(WebSession.last_seen_at).desc())
        )
    )


def end_sessions_of(session: Session, *, actor: Actor, user_id: int, clock: Clock) -> int:
    """An admin signs a person out everywhere (a lost handheld, a shared login suspected).

    Raises:
        PermissionDenied: the actor is not an admin.
        NotFound: no such person.
    """
    require_role(actor, Role.ADMIN, action="end another person's sessions")
    person = session.get(User, user_id)
    if person is None:
        raise NotFound(f"There is no user with id {user_id}.")
    ended = end_all_for(session, user_id=user_id, reason=ENDED_BY_ADMIN, clock=clock)
    audit.record(
        session,
        actor=actor,
        action="user.sessions_ended",
        entity_type="user",
        entity_id=person.id,
        after={"sessions_ended": ended},
        clock=clock,
    )
    return ended
