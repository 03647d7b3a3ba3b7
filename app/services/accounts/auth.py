"""Passwords (argon2), sign-in with lockout, sign-out. Every attempt is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from app.models import User
from app.services.accounts import web_sessions
from app.services.core import audit
from app.services.core.clock import Clock

_hasher = PasswordHasher()
# Verifying against this keeps an unknown username as slow as a wrong password (no user probing).
_DUMMY_HASH = _hasher.hash("batchbook-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    lock_seconds: int = 15 * 60


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


WRONG_CREDENTIALS = "Username or password is not correct."


def find_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username.strip().lower())).first()


def _locked_message(user: User, policy: LockoutPolicy, clock: Clock) -> str:
    until = f"{clock.local(user.locked_until):%H:%M %Z}" if user.locked_until else "later"
    return (
        f"This account is locked after {policy.max_failures} failed sign-ins. "
        f"Try again after {until}, or ask an admin to unlock it."
    )


def sign_in_refusal(user: User, *, policy: LockoutPolicy, clock: Clock) -> str | None:
    """Why `user` may not sign in now, by any method (None: they may). The one sign-in rule: a
    deactivated account gets the same answer as wrong credentials, a locked one says until when."""
    if not user.active:
        return WRONG_CREDENTIALS
    if user.locked_until is not None and user.locked_until > clock.now():
        return _locked_message(user, policy, clock)
    return None


def record_sign_in(
    session: Session, *, user: User, method: str, clock: Clock, **detail: object
) -> None:
    """A successful sign-in by any method: failures reset, lock cleared, time kept, audited."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = clock.now()
    session.add(user)
    audit.record(
        session,
        actor=user,
        action="login.succeeded",
        entity_type="user",
        entity_id=user.id,
        after={"method": method, **detail},
        clock=clock,
    )


def sign_in(
    session: Session,
    *,
    username: str,
    password: str,
    policy: LockoutPolicy,
    clock: Clock,
) -> SignInResult:
    """Check a username and password; count failures and lock the account after too many."""
    now = clock.now()
    user = find_user(session, username) if username.strip() else None
    if user is None:
        password_matches(_DUMMY_HASH, password)
        audit.record(
            session,
            actor=None,
            action="login.failed",
            entity_type="user",
            entity_id=username.strip().lower()[:120] or "-",
            after={"reason": "unknown username"},
            clock=clock,
        )
        return SignInResult(None, WRONG_CREDENTIALS)

    if user.active and sign_in_refusal(user, policy=policy, clock=clock):
        audit.record(
            session,
            actor=None,
            action="login.refused_locked",
            entity_type="user",
            entity_id=user.id,
            clock=clock,
        )
        return SignInResult(None, _locked_message(user, policy, clock))

    if not password_matches(user.password_hash, password) or not user.active:
        before = {"failed_logins": user.failed_logins}
        user.failed_logins += 1
        reason = "deactivated account" if user.active is False else "wrong password"
        audit.record(
            session,
            actor=None,
            action="login.failed",
            entity_type="user",
            entity_id=user.id,
            before=before,
            after={"failed_logins": user.failed_logins, "reason": reason},
            clock=clock,
        )
        if user.failed_logins >= policy.max_failures:
            user.locked_until = now + timedelta(seconds=policy.lock_seconds)
            user.failed_logins = 0
            audit.record(
                session,
                actor=None,
                action="account.locked",
                entity_type="user",
                entity_id=user.id,
                after={"locked_until": user.locked_until},
                reason=f"{policy.max_failures} failed sign-ins",
                clock=clock,
            )
            # Someone is guessing this password: whoever holds a session of it is signed out.
            web_sessions.end_all_for(
                session,
                user_id=user.id,
                reason=web_sessions.LOCKED,
                clock=clock,
            )
            session.add(user)
            session.flush()
            return SignInResult(None, _locked_message(user, policy, clock))
        session.add(user)
        session.flush()
        return SignInResult(None, WRONG_CREDENTIALS)

    record_sign_in(session, user=user, method="password", clock=clock)
    return SignInResult(user)


def sign_out(session: Session, *, user: User, expired: bool, clock: Clock) -> None:
    """Record the end of a session: by the user's choice, or by the inactivity timeout."""
    audit.record(
        session,
        actor=user,
        action="session.expired" if expired else "logout",
        entity_type="user",
        entity_id=user.id,
        clock=clock,
    )
