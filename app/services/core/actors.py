"""Who is acting: a signed-in user, or the system itself (CLI run by whoever holds the server)."""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from app.models import Role, User
from app.services.core.errors import PermissionDenied


@dataclass(frozen=True)
class SystemActor:
    """The server operator acting through the CLI; recorded by OS user name in the audit trail."""

    name: str

    @classmethod
    def from_os(cls) -> SystemActor:
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "unknown"
        return cls(name=f"cli:{who}")


Actor = User | SystemActor


def actor_identity(actor: Actor | None) -> tuple[int | None, str]:
    if actor is None:
        return None, "anonymous"
    if isinstance(actor, SystemActor):
        return None, actor.name
    return actor.id, actor.username


def require_role(actor: Actor, *roles: Role, action: str) -> None:
    """Refuse `action` unless the actor holds one of `roles` (the CLI's system actor may do all).

    Raises:
        PermissionDenied: the actor lacks every one of the roles, or is deactivated.
    """
    if isinstance(actor, SystemActor):
        return
    if not actor.active or not actor.has_role(*roles):
        needed = " or ".join(r.label for r in roles)
        raise PermissionDenied(
            f"Only {needed} can {action}. You are signed in as {actor.username}."
        )
