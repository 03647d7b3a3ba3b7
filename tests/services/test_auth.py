"""Sign-in: argon2 passwords, lockout after repeated failures, every attempt audited (11.300(d))."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from app.models import User
from app.services.accounts import auth, users
from tests.clock import CLOCK, at
from tests.conftest import PASSWORD, SYSTEM, audit_actions

POLICY = auth.LockoutPolicy(max_failures=3, lock_seconds=600)
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_passwords_are_stored_as_argon2id(make_user: Callable[..., User]) -> None:
    user = make_user("operator")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_right_password_signs_in_and_is_audited(
    session: Session, make_user: Callable[..., User]
) -> None:
    user = make_user("operator")
    result = auth.sign_in(
        session, username=user.username.upper(), password=PASSWORD, policy=POLICY, clock=at(T0)
    )
    assert result.ok
    assert result.user is user
    assert user.last_login_at == T0
    assert audit_actions(session, entity_id=str(user.id))[-1] == "login.succeeded"


def test_wrong_password_is_refused_counted_and_audited(
    session: Session, make_user: Callable[..., User]
) -> None:
    user = make_user("operator")
    result = auth.sign_in(
        session, username=user.username, password="nope", policy=POLICY, clock=at(T0)
    )
    assert not result.ok
    assert result.message == auth.WRONG_CREDENTIALS
    assert user.failed_logins == 1
    assert audit_actions(session, entity_id=str(user.id))[-1] == "login.failed"


def test_unknown_username_is_refused_with_the_same_words_and_audited(session: Session) -> None:
    result = auth.sign_in(session, username="Nobody", password="x", policy=POLICY, clock=at(T0))
    assert result.message == auth.WRONG_CREDENTIALS
    assert audit_actions(session, entity_id="nobody") == ["login.failed"]


def test_account_locks_after_repeated_failures(
    session: Session, make_user: Callable[..., User]
) -> None:
    user = make_user("qa")
    for i in range(POLICY.max_failures):
        result = auth.sign_in(
            session,
            username=user.username,
            password="bad",
            policy=POLICY,
            clock=at(T0 + timedelta(seconds=i)),
        )
    assert "locked after 3 failed attempts" in (result.message or "")
    assert user.locked_until == T0 + timedelta(seconds=2 + 600)
    # Even the right password is refused while locked, and that attempt is audited too.
    locked = auth.sign_in(
        session,
        username=user.username,
        password=PASSWORD,
        policy=POLICY,
        clock=at(T0 + timedelta(minutes=5)),
    )
    assert not locked.ok
    assert "locked" in (locked.message or "")
    assert audit_actions(session, entity_id=str(user.id)) == [
        "user.created",
        "login.failed",
        "login.failed",
        "login.failed",
        "account.locked",
        "login.refused_locked",
    ]


def _attempts(
    session: Session, username: str, seconds: list[int], password: str = "bad"
) -> list[str | None]:
    """The answers to sign-ins with `username` at T0 plus each of `seconds`."""
    return [
        auth.sign_in(
            session,
            username=username,
            password=password,
            policy=POLICY,
            clock=at(T0 + timedelta(seconds=second)),
        ).message
        for second in seconds
    ]


def test_an_unknown_name_is_answered_like_a_locked_account(
    session: Session, make_user: Callable[..., User]
) -> None:
    """Failures, the lock, its end and the next count: a name nobody has gets the same
    answers at the same moments, so the lock does not tell which names exist."""
    user = make_user("qa")
    # 3 failures lock; 2 tries while locked; the lock ends at 602 s; 3 more failures lock again.
    seconds = [0, 1, 2, 60, 601, 700, 701, 702, 703]
    real = _attempts(session, user.username, seconds)
    unknown = _attempts(session, "Nobody", seconds)

    assert unknown == real
    wrong, locked = auth.WRONG_CREDENTIALS, real[2]
    assert real == [wrong, wrong, locked, locked, locked, wrong, wrong, real[7], real[7]]
    assert locked == (
        "Sign-in with this username is locked after 3 failed attempts. "
        "Try again after 09:10 CET, or ask an admin."  # T0 + 2 s + 600 s, in plant time
    )
    assert real[7] is not None and "09:21 CET" in real[7]  # the second lock, from 702 s
    # The real account is really locked and that is audited; the unknown name only answers so.
    assert user.locked_until == T0 + timedelta(seconds=702 + 600)
    assert audit_actions(session, entity_id=str(user.id)).count("account.locked") == 2
    assert set(audit_actions(session, entity_id="nobody")) == {"login.failed"}
    # Even the right password gets the lock sentence while locked.
    assert _attempts(session, user.username, [800], password=PASSWORD) == [real[7]]


def test_a_deactivated_account_is_answered_like_an_unknown_name(
    session: Session, make_user: Callable[..., User]
) -> None:
    user = make_user("operator")
    users.deactivate_user(session, actor=SYSTEM, user_id=user.id, reason="left", clock=CLOCK)
    seconds = [0, 1, 2, 3, 4, 700]
    assert _attempts(session, user.username, seconds, password=PASSWORD) == _attempts(
        session, "nobody-else", seconds
    )


def test_lock_expires_after_its_time(session: Session, make_user: Callable[..., User]) -> None:
    user = make_user("qa")
    for _ in range(POLICY.max_failures):
        auth.sign_in(session, username=user.username, password="bad", policy=POLICY, clock=at(T0))
    later = T0 + timedelta(seconds=POLICY.lock_seconds + 1)
    assert auth.sign_in(
        session, username=user.username, password=PASSWORD, policy=POLICY, clock=at(later)
    ).ok
    assert user.locked_until is None
    assert user.failed_logins == 0


def test_admin_unlock_lifts_the_lock(session: Session, make_user: Callable[..., User]) -> None:
    admin = make_user("admin")
    user = make_user("qa")
    for _ in range(POLICY.max_failures):
        auth.sign_in(session, username=user.username, password="bad", policy=POLICY, clock=at(T0))
    users.unlock_user(
        session, actor=admin, user_id=user.id, reason="called the help desk", clock=at(T0)
    )
    assert auth.sign_in(
        session, username=user.username, password=PASSWORD, policy=POLICY, clock=at(T0)
    ).ok


def test_deactivated_user_cannot_sign_in(session: Session, make_user: Callable[..., User]) -> None:
    user = make_user("operator")
    users.deactivate_user(session, actor=SYSTEM, user_id=user.id, reason="left", clock=CLOCK)
    result = auth.sign_in(
        session, username=user.username, password=PASSWORD, policy=POLICY, clock=at(T0)
    )
    assert not result.ok
    assert result.message == auth.WRONG_CREDENTIALS


def test_sign_out_is_audited_as_logout_or_expiry(
    session: Session, make_user: Callable[..., User]
) -> None:
    user = make_user("operator")
    auth.sign_out(session, user=user, expired=False, clock=CLOCK)
    auth.sign_out(session, user=user, expired=True, clock=CLOCK)
    assert audit_actions(session, entity_id=str(user.id))[-2:] == ["logout", "session.expired"]
