"""What every kind of master data does the same way: admin or QA only, audited with before
and after values, changes and (de)activation only with a reason, never deleted."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, SQLModel

from app.models import Role
from app.services.core import audit
from app.services.core.actors import Actor, require_role
from app.services.core.clock import Clock
from app.services.core.errors import Violation, require
from app.services.core.text import read_reason

EDITORS = (Role.ADMIN, Role.QA)
Snapshot = Callable[[Any], dict[str, Any]]


def require_editor(actor: Actor) -> None:
    """Raises PermissionDenied unless the actor is admin or QA."""
    require_role(actor, *EDITORS, action="change master data")


def reason_problems(reason: str) -> list[Violation]:
    """What is wrong with a change's reason: none given, or not plain text."""
    problems: list[Violation] = []
    read_reason(reason, problems)
    return problems


def create(
    session: Session,
    *,
    actor: Actor,
    row: SQLModel,
    entity_type: str,
    snapshot: Snapshot,
    clock: Clock,
) -> None:
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"{entity_type}.created",
        entity_type=entity_type,
        entity_id=row.id,  # type: ignore[attr-defined]
        after=snapshot(row),
        clock=clock,
    )


def change(
    session: Session,
    *,
    actor: Actor,
    row: SQLModel,
    entity_type: str,
    values: dict[str, Any],
    snapshot: Snapshot,
    reason: str,
    clock: Clock,
) -> None:
    """Apply `values` to `row` and audit before/after with the reason (already checked)."""
    before = snapshot(row)
    for key, value in values.items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"{entity_type}.changed",
        entity_type=entity_type,
        entity_id=row.id,  # type: ignore[attr-defined]
        before=before,
        after=snapshot(row),
        reason=reason.strip(),
        clock=clock,
    )


def set_flag(
    session: Session,
    *,
    actor: Actor,
    row: SQLModel,
    entity_type: str,
    flag: str,
    value: bool,
    words: tuple[str, str],
    actions: tuple[str, str],
    name: str,
    reason: str,
    clock: Clock,
) -> None:
    """Switch a boolean such as `active` or `in_service`, with a reason.

    `words` name the two states for messages ("active", "deactivated"); `actions` are the
    audit actions for switching on and off ("reactivated", "deactivated").

    Raises:
        Rejected: no reason, or already in that state.
    """
    on, off = words
    problems = reason_problems(reason)
    if getattr(row, flag) == value:
        problems.append(
            Violation(f"{entity_type}.state", f"{name} is already {on if value else off}.")
        )
    require(problems)
    setattr(row, flag, value)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"{entity_type}.{actions[0] if value else actions[1]}",
        entity_type=entity_type,
        entity_id=row.id,  # type: ignore[attr-defined]
        before={flag: not value},
        after={flag: value},
        reason=reason.strip(),
        clock=clock,
    )


CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,39}$")


def code_problems(
    raw: str, *, current: str | None, taken: Callable[[str], object | None], noun: str
) -> tuple[str, list[Violation]]:
    """The code as stored (upper case) and what is wrong with it: its form, that another
    record of the kind already has it, or that an existing record's code is being changed.

    Codes never change once created: labels, scans and records name them, and renaming one
    would free the old code for reuse by something else.
    """
    code = raw.strip().upper()
    if current is not None and code != current:
        message = (
            f"The code {current} cannot be changed; records and labels name it. "
            f"Create {noun} with the new code and deactivate {current} instead."
        )
        return current, [Violation("code.fixed", message, "code")]
    if not CODE_RE.match(code):
        message = "A code is 1-40 letters, digits, '.', '_', '/' or '-'."
        return code, [Violation("code.format", message, "code")]
    if current is None and taken(code) is not None:
        return code, [Violation("code.taken", f"There is already {noun} {code}.", "code")]
    return code, []


def snapshot_of(*fields: str) -> Snapshot:
    """A function giving a row's audited values (the same fields before and after a change)."""
    return lambda row: {f: getattr(row, f) for f in fields}
