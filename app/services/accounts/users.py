"""User administration: create, change roles, deactivate, reactivate, unlock. Admin only."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.models import Role, User
from app.services.accounts import web_sessions
from app.services.accounts.auth import find_user, hash_password
from app.services.core import audit
from app.services.core.actors import Actor, require_role
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, Rejected, Violation, require
from app.services.core.text import max_length, read_reason, read_text

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 12
MANAGERS = (Role.ADMIN,)  # who creates accounts and changes them


@dataclass(frozen=True)
class NewUser:
    username: str
    full_name: str
    roles: tuple[str, ...]
    password: str


def _parse_roles(raw: Iterable[str]) -> tuple[list[Role], list[Violation]]:
    roles, bad = [], []
    for value in raw:
        try:
            roles.append(Role(value.strip().lower()))
        except ValueError:
            bad.append(value)
    problems = []
    if bad:
        known = ", ".join(r.value for r in Role)
        problems.append(
            Violation(
                "roles.unknown", f"Unknown role {', '.join(bad)}; choose from {known}.", "roles"
            )
        )
    elif not roles:
        problems.append(Violation("roles.empty", "Choose at least one role.", "roles"))
    return sorted(set(roles)), problems


def _roles_text(roles: Iterable[Role]) -> str:
    return ",".join(sorted(r.value for r in roles))


def _password_problems(password: str) -> list[Violation]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return [
            Violation(
                "password.short",
                f"The password must have at least {MIN_PASSWORD_LENGTH} characters.",
                "password",
            )
        ]
    return []


def _public(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "roles": user.roles,
        "active": user.active,
    }


def create_user(session: Session, *, actor: Actor, new: NewUser, clock: Clock) -> User:
    """Create a personal account.

    Raises:
        PermissionDenied: the actor is not an admin.
        Rejected: the username is malformed or was ever used, or a field is invalid.
    """
    require_role(actor, *MANAGERS, action="create users")
    now = clock.now()
    username = new.username.strip().lower()
    problems: list[Violation] = []
    if not USERNAME_RE.match(username):
        problems.append(
            Violation(
                "username.format",
                "A username is 2-64 characters: lower-case letters, digits, '.', '_' or '-'.",
                "username",
            )
        )
    elif find_user(session, username) is not None:
        problems.append(
            Violation(
                "username.taken",
                f"The username '{username}' has been used before. Usernames are never reused, "
                "even after an account is deactivated; choose another.",
                "username",
            )
        )
    full_name = " ".join(
        read_text(
            new.full_name, field="full_name", label="full name", problems=problems,
            limit=max_length(User, "full_name"), required=True,
            empty="Enter the person's full printed name; it appears on their signatures.",
        ).split()
    )  # fmt: skip
    roles, role_problems = _parse_roles(new.roles)
    problems += role_problems + _password_problems(new.password)
    require(problems)

    user = User(
        username=username,
        full_name=full_name,
        roles=_roles_text(roles),
        password_hash=hash_password(new.password),
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.created",
        entity_type="user",
        entity_id=user.id,
        after=_public(user),
        clock=clock,
    )
    return user


def get_user(session: Session, user_id: int) -> User:
    """Raises NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    return user


def may_manage(user: User) -> bool:
    """Whether `user` may see and manage the accounts (`list_users` refuses everyone else)."""
    return user.active and user.has_role(*MANAGERS)


def list_users(session: Session, *, viewer: Actor) -> list[User]:
    require_role(viewer, *MANAGERS, action="manage users")
    return list(session.exec(select(User).order_by(col(User.active).desc(), User.username)))


def _require_reason(reason: str | None) -> str:
    problems: list[Violation] = []
    text = read_reason(reason, problems)
    require(problems)
    return text


def _change(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    action: str,
    reason: str | None,
    clock: Clock,
    apply: object,
) -> User:
    require_role(actor, *MANAGERS, action="manage users")
    text = _require_reason(reason)
    user = get_user(session, user_id)
    before = _public(user) | {"locked_until": user.locked_until}
    apply(user)  # type: ignore[operator]
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=_public(user) | {"locked_until": user.locked_until},
        reason=text,
        clock=clock,
    )
    return user


def set_roles(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    roles: Iterable[str],
    reason: str | None,
    clock: Clock,
) -> User:
    """Replace a user's roles.

    Raises:
        PermissionDenied, NotFound, Rejected (unknown role, no role, no reason,
        or an admin removing their own admin role).
    """
    parsed, problems = _parse_roles(roles)
    if isinstance(actor, User) and actor.id == user_id and Role.ADMIN not in parsed:
        problems.append(
            Violation(
                "roles.self_admin",
                "You cannot remove your own admin role; ask another admin.",
                "roles",
            )
        )
    require(problems)

    def apply(user: User) -> None:
        user.roles = _roles_text(parsed)

    return _change(
        session,
        actor=actor,
        user_id=user_id,
        action="user.roles_changed",
        reason=reason,
        clock=clock.at(clock.now()),
        apply=apply,
    )


def deactivate_user(
    session: Session, *, actor: Actor, user_id: int, reason: str | None, clock: Clock
) -> User:
    """Deactivate an account (it is never deleted). Raises PermissionDenied, NotFound, Rejected."""
    if isinstance(actor, User) and actor.id == user_id:
        raise Rejected([Violation("user.self", "You cannot deactivate your own account.")])

    def apply(user: User) -> None:
        if not user.active:
            raise Rejected([Violation("user.inactive", f"{user.username} is already deactivated.")])
        user.active = False

    user = _change(
        session,
        actor=actor,
        user_id=user_id,
        action="user.deactivated",
        reason=reason,
        clock=clock.at(clock.now()),
        apply=apply,
    )
    web_sessions.end_all_for(session, user_id=user_id, reason=web_sessions.DEACTIVATED, clock=clock)
    return user


def reactivate_user(
    session: Session, *, actor: Actor, user_id: int, reason: str | None, clock: Clock
) -> User:
    """Reactivate a deactivated account. Raises PermissionDenied, NotFound, Rejected."""

    def apply(user: User) -> None:
        if user.active:
            raise Rejected([Violation("user.active", f"{user.username} is already active.")])
        user.active = True

    return _change(
        session,
        actor=actor,
        user_id=user_id,
        action="user.reactivated",
        reason=reason,
        clock=clock.at(clock.now()),
        apply=apply,
    )


def unlock_user(
    session: Session, *, actor: Actor, user_id: int, reason: str | None, clock: Clock
) -> User:
    """Lift a sign-in lockout early. Raises PermissionDenied, NotFound, Rejected."""

    def apply(user: User) -> None:
        user.locked_until = None
        user.failed_logins = 0

    return _change(
        session,
        actor=actor,
        user_id=user_id,
        action="user.unlocked",
        reason=reason,
        clock=clock.at(clock.now()),
        apply=apply,
    )
