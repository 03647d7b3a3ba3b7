"""What every edit of a draft revision shares: parsing, guards, audit, status transitions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import Session

from app.models import (
    Recipe,
    RecipeRevision,
    RevisionStatus,
)
from app.services.core import audit
from app.services.core.actors import Actor, require_role
from app.services.core.clock import Clock
from app.services.core.errors import Rejected, Violation
from app.services.core.quantities import read_number
from app.services.mbr.reading import AUTHORS, RECORD_TYPE, get_revision


def read_decimal(
    raw: str, *, field: str, label: str, problems: list[Violation], positive: bool = True
) -> Decimal | None:
    return read_number(raw, field=field, label=label, problems=problems, positive=positive)


def read_optional_decimal(raw: str, *, field: str, label: str, problems: list[Violation]) -> Any:
    if not (raw or "").strip():
        return None
    return read_number(raw, field=field, label=label, problems=problems, signed=True)


def normalise_codes(raw: str) -> str:
    return ",".join(sorted({c.strip().upper() for c in (raw or "").split(",") if c.strip()}))


def require_author(actor: Actor, action: str) -> None:
    require_role(actor, *AUTHORS, action=action)


def require_draft(revision: RecipeRevision, recipe: Recipe | None = None) -> None:
    """Raises Rejected unless the revision is still a draft."""
    if revision.status == RevisionStatus.DRAFT:
        return
    name = f"Revision {revision.revision}"
    why = {
        RevisionStatus.IN_REVIEW: "is in review and frozen; return it to draft to change it",
        RevisionStatus.EFFECTIVE: "is effective and can never change; start a new revision",
        RevisionStatus.SUPERSEDED: "is superseded and can never change",
    }[RevisionStatus(revision.status)]
    raise Rejected([Violation("revision.frozen", f"{name} {why}.")])


def editable_draft(session: Session, actor: Actor, revision_id: int, action: str) -> RecipeRevision:
    require_author(actor, action)
    revision = get_revision(session, revision_id)
    require_draft(revision)
    return revision


def audit_revision(
    session: Session,
    actor: Actor,
    revision: RecipeRevision,
    action: str,
    clock: Clock,
    *,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"mbr.{action}",
        entity_type=RECORD_TYPE,
        entity_id=revision.id,
        before=before,
        after=after,
        reason=reason,
        clock=clock,
    )


def transition(
    session: Session,
    actor: Actor,
    revision: RecipeRevision,
    to: RevisionStatus,
    action: str,
    clock: Clock,
    *,
    reason: str | None = None,
    **after: Any,
) -> None:
    """Move a revision to another status, stamp the time, and audit from-to in one place."""
    now = clock.now()
    before = {"status": revision.status}
    revision.status = to.value
    stamp = {
        RevisionStatus.IN_REVIEW: "submitted_at",
        RevisionStatus.EFFECTIVE: "effective_at",
        RevisionStatus.SUPERSEDED: "superseded_at",
    }.get(to)
    if stamp:
        setattr(revision, stamp, now)
    session.add(revision)
    session.flush()
    audit_revision(
        session, actor, revision, action, before=before, after={"status": to.value, **after},
        reason=reason, clock=clock,
    )  # fmt: skip
