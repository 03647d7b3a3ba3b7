"""One-time form keys: a double tap or a retry after a dropped connection records once."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import text
from sqlmodel import Session

from app.models import (
    Submission,
    User,
)
from app.services.core.clock import Clock
from app.services.core.errors import Rejected, Violation

Row = TypeVar("Row")


def first_result(session: Session, key: str, model: type[Row]) -> Row | None:
    """Check a floor form's one-time key and return what its first submission made, if the
    same form was sent before (a double tap, a retry after a dropped connection).

    Raises:
        Rejected: the form carries no usable key (a stale page).
    """
    _check_key(key)
    _wait_for_the_same_form(session, key)
    earlier = session.get(Submission, key)
    if earlier is None:
        return None
    return session.get(model, int(earlier.result.split(":")[1]))


def remember(
    session: Session, *, key: str, form: str, user: User, result: str, clock: Clock
) -> None:
    """Keep the form's key with what it made ("lot:12"), for `first_result`."""
    now = clock.now()
    if not key:
        return
    session.add(Submission(key=key, form=form, user_id=user.id, result=result, at=now))  # type: ignore[arg-type]
    session.flush()


# A constant naming "one-time form keys" in PostgreSQL's two-key advisory-lock space (which
# does not overlap the single-key space the audit chain's lock lives in).
_FORM_KEY_LOCKS = 7_391


def _wait_for_the_same_form(session: Session, key: str) -> None:
    """Two copies of one form sent at the same moment (a double tap on a slow network): the
    second waits here until the first has committed, then finds its result instead of recording
    again and failing on the key. SQLite's write transactions are serial already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"),
            {"space": _FORM_KEY_LOCKS, "key": key},
        )


def _check_key(key: str) -> None:
    if not key or len(key) > 64:
        raise Rejected(
            [Violation("form.key", "This form is stale (no one-time key). Reload the page.")]
        )
