"""Devices: a shared handheld is registered once so a platform passkey is never enrolled on it."""

from __future__ import annotations

import secrets

from sqlmodel import Session, select

from app.models import Device, Role, User
from app.services.core import audit
from app.services.core.actors import require_role
from app.services.core.clock import Clock
from app.services.core.errors import (
    Violation,
    require,
)
from app.services.core.text import max_length, read_text
from app.services.esign.passkeys import hash_token

REGISTRARS = (Role.ADMIN,)  # who registers devices


def may_register(user: User) -> bool:
    """Whether `user` may see and register devices (`register_device` refuses everyone else)."""
    return user.active and user.has_role(*REGISTRARS)


def register_device(
    session: Session, *, actor: User, name: str, shared: bool, clock: Clock
) -> tuple[Device, str]:
    """Register the admin's current browser as a device; returns it and its cookie token.

    Raises:
        PermissionDenied: not an admin. Rejected: no name.
    """
    require_role(actor, *REGISTRARS, action="register devices")
    problems: list[Violation] = []
    name = read_text(
        name, field="name", label="device's name", problems=problems,
        limit=max_length(Device, "name"), required=True,
        empty="Name the device (e.g. Handheld 3, Line 2).",
    )  # fmt: skip
    require(problems)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    device = Device(
        token_hash=hash_token(token),
        name=name.strip(),
        shared=shared,
        registered_by_id=actor.id,  # type: ignore[arg-type]
        registered_at=now,
    )
    session.add(device)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="device.registered",
        entity_type="device",
        entity_id=device.id,
        after={"name": device.name, "shared": shared},
        clock=clock,
    )
    return device, token


def device_for_token(session: Session, token: str | None) -> Device | None:
    if not token:
        return None
    return session.exec(select(Device).where(Device.token_hash == hash_token(token))).first()
