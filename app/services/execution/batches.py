"""Batches: created by a supervisor from the effective revision only, with the bill of materials
scaled to the planned quantity and frozen (kept to each unit's resolution, never rounded outside
a line's tolerance); planning.check_batch shows that scaled bill before, and create_batch
creates exactly it. A planned batch holding no material can be cancelled with a reason; it is
never deleted, and nothing is issued to it after. Later issues execute them on the floor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from app.models import (
    AuditEvent,
    Batch,
    BatchMaterial,
    BatchStatus,
    ExcessIssueApproval,
    InventoryMovement,
    Lot,
    Material,
    MovementKind,
    Role,
    User,
)
from app.services.core import audit
from app.services.core.actors import Actor, require_role
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, Violation, require
from app.services.core.quantities import shown
from app.services.core.text import read_reason
from app.services.execution.planning import BatchIn as BatchIn  # what callers create with
from app.services.execution.planning import check_batch
from app.services.mbr import reading

RECORD_TYPE = "batch"

# Who takes a wrong plan back: the supervisor, who answers for what the floor makes.
CANCELLERS = (Role.SUPERVISOR,)
# Material goes to a batch that is waiting for it or being made; not to one on hold, finished,
# released, rejected or cancelled.
OPEN_FOR_ISSUE = (BatchStatus.PLANNED, BatchStatus.IN_PROGRESS)


@dataclass(frozen=True)
class ApprovalView:
    approval: ExcessIssueApproval
    material_code: str
    approved_by: str  # the supervisor's printed name

    @property
    def words(self) -> str:
        a = self.approval
        return (
            f"{shown(a.quantity, a.unit)} of {self.material_code} excess approved by "
            f"{self.approved_by}: {a.reason}"
        )


@dataclass(frozen=True)
class Cancellation:
    """Who cancelled a batch, when and why (from its audit event: the batch row keeps only its
    status, as a lot on hold does)."""

    by: str  # printed name
    at: datetime
    reason: str


@dataclass
class BatchView:
    batch: Batch
    title: str
    materials: list[tuple[BatchMaterial, Material]]
    approvals: list[ApprovalView]  # excess issue approvals, oldest first
    cancellation: Cancellation | None = None
    # Why a planned batch cannot be cancelled yet (material issued to it is still on it), for
    # the page to say instead of offering a form the service would refuse.
    cancel_blocked: list[Violation] = field(default_factory=list)
    open_for_issue: bool = True  # `issue_problems` finds none: the pick list is offered


def may_cancel(user: Actor, batch: Batch) -> bool:
    """Whether `user` may cancel `batch`: an active supervisor, a batch still planned. The page
    offers the cancel control by it and `cancel_batch` refuses by it; a planned batch still
    holding material issued to it is refused with that sentence (`cancel_problems`)."""
    return (
        isinstance(user, User)
        and user.active
        and user.has_role(*CANCELLERS)
        and batch.status == BatchStatus.PLANNED
    )


def get_batch(session: Session, batch_no: str) -> Batch:
    """Raises NotFound."""
    batch = session.exec(select(Batch).where(Batch.batch_no == batch_no.strip().upper())).first()
    if batch is None:
        raise NotFound(f"There is no batch {batch_no.strip().upper()!r}.")
    return batch


def load_batch(session: Session, batch_no: str) -> BatchView:
    batch = get_batch(session, batch_no)
    revision = reading.get_revision(session, batch.revision_id)
    recipe = reading.get_recipe(session, batch.recipe_id)
    rows = session.exec(
        select(BatchMaterial, Material)
        .join(Material, col(Material.id) == BatchMaterial.material_id)
        .where(BatchMaterial.batch_id == batch.id)
        .order_by(col(BatchMaterial.position))
    ).all()
    approvals = list_approvals(session, batch.id)  # type: ignore[arg-type]
    return BatchView(
        batch,
        f"{recipe.code} rev {revision.revision}",
        list(rows),
        approvals,
        cancellation=_cancellation(session, batch),
        cancel_blocked=cancel_problems(session, batch),
        open_for_issue=not issue_problems(session, batch),
    )


def list_approvals(session: Session, batch_id: int) -> list[ApprovalView]:
    """Every excess approval of a batch with its material and approver, oldest first."""
    rows = session.exec(
        select(ExcessIssueApproval, Material.code, User.full_name)
        .join(Material, col(Material.id) == ExcessIssueApproval.material_id)
        .join(User, col(User.id) == ExcessIssueApproval.approved_by_id)
        .where(ExcessIssueApproval.batch_id == batch_id)
        .order_by(col(ExcessIssueApproval.id))
    )
    return [ApprovalView(a, code, name) for a, code, name in rows]


def list_batches(session: Session) -> list[Batch]:
    """Every batch, newest first (cancelled ones too: they are never deleted)."""
    return list(session.exec(select(Batch).order_by(col(Batch.id).desc())))


def list_batches_to_pick(session: Session) -> list[Batch]:
    """The batches the warehouse may pick and issue for (`issue_problems` finds none), newest
    first: a cancelled batch is not among them."""
    return list(
        session.exec(
            select(Batch)
            .where(col(Batch.status).in_([s.value for s in OPEN_FOR_ISSUE]))
            .order_by(col(Batch.id).desc())
        )
    )


def issue_problems(session: Session, batch: Batch) -> list[Violation]:
    """Why no material may be issued to `batch` now (its status), beside the batch field. The
    issue gate asks this with the batch row locked, so it cannot race a cancellation."""
    status = BatchStatus(batch.status)
    if status in OPEN_FOR_ISSUE:
        return []
    if status == BatchStatus.CANCELLED:
        cancelled = _cancellation(session, batch)
        why = f" ({cancelled.reason})" if cancelled else ""
        return [
            Violation(
                "batch.cancelled",
                f"Batch {batch.batch_no} was cancelled{why}; nothing is picked or issued for it.",
                "batch_no",
            )
        ]
    return [
        Violation(
            "batch.closed",
            f"Batch {batch.batch_no} is {status.label.lower()}; material is issued only to a "
            "planned batch or one in progress.",
            "batch_no",
        )
    ]


def create_batch(session: Session, *, actor: Actor, new: BatchIn, clock: Clock) -> Batch:
    """A batch from the recipe's effective revision, its BOM scaled and frozen (the plan
    `check_batch` shows, checked again now).

    Raises:
        PermissionDenied, GateViolation, Rejected: as `check_batch`.
    """
    plan = check_batch(session, actor=actor, new=new, clock=clock)
    assert isinstance(actor, User)
    batch = Batch(
        batch_no=plan.batch_no,
        recipe_id=plan.revision.recipe_id,
        revision_id=plan.revision.id,  # type: ignore[arg-type]
        planned_quantity=plan.planned,
        unit=plan.unit,
        customer_po=plan.customer_po,
        due_date=plan.due_date,
        created_at=clock.now(),
        created_by_id=actor.id,  # type: ignore[arg-type]
    )
    session.add(batch)
    session.flush()
    for position, line in enumerate(plan.lines, start=1):
        session.add(
            BatchMaterial(
                batch_id=batch.id,  # type: ignore[arg-type]
                position=position,
                material_id=line.material.id,  # type: ignore[arg-type]
                quantity=line.quantity,
                unit=line.unit,
                tolerance_kind=line.tolerance_kind,
                tolerance=line.tolerance,
                step_code=line.step_code,
            )
        )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="batch.created",
        entity_type=RECORD_TYPE,
        entity_id=batch.id,
        after={
            "batch_no": plan.batch_no,
            "revision": plan.title,
            "planned": plan.planned,
            "unit": batch.unit,
            "bom": [
                {"material": line.material.code, "quantity": line.quantity, "unit": line.unit}
                for line in plan.lines
            ],
            "customer_po": batch.customer_po,
            "due_date": batch.due_date,
        },
        clock=clock,
    )
    return batch


# --- Cancelling a planned batch --------------------------------------------------------------


def held_material(session: Session, batch: Batch) -> list[tuple[str, Decimal, str]]:
    """What the batch holds of each lot issued to it (issues net of returns): (lot, quantity,
    unit) for each lot it still holds some of."""
    rows = session.exec(
        select(col(Lot.lot_code), col(InventoryMovement.quantity), col(InventoryMovement.unit))
        .join(Lot, col(Lot.id) == InventoryMovement.lot_id)
        .where(
            InventoryMovement.batch_id == batch.id,
            col(InventoryMovement.kind).in_([MovementKind.ISSUE, MovementKind.RETURN]),
        )
        .order_by(col(InventoryMovement.id))
    )
    held: dict[tuple[str, str], Decimal] = {}
    for lot_code, quantity, unit in rows:
        held[lot_code, unit] = held.get((lot_code, unit), Decimal(0)) - quantity
    return [(lot, quantity, unit) for (lot, unit), quantity in held.items() if quantity > 0]


def cancel_problems(session: Session, batch: Batch) -> list[Violation]:
    """Why `batch` cannot be cancelled: it was already, it has started, or material issued to
    it is still on it (it goes back to stock first, so the ledger never loses it)."""
    status = BatchStatus(batch.status)
    if status == BatchStatus.CANCELLED:
        return [Violation("batch.cancelled", f"Batch {batch.batch_no} is already cancelled.")]
    if status != BatchStatus.PLANNED:
        return [
            Violation(
                "batch.started",
                f"Batch {batch.batch_no} is {status.label.lower()}: only a planned batch that "
                "has not started can be cancelled.",
            )
        ]
    held = held_material(session, batch)
    if held:
        lots = ", ".join(f"{shown(quantity, unit)} of lot {lot}" for lot, quantity, unit in held)
        return [
            Violation(
                "batch.material_issued",
                f"Batch {batch.batch_no} holds material issued to it ({lots}); the warehouse "
                "returns it to stock first, then the batch can be cancelled.",
            )
        ]
    return []


def lock_batch(session: Session, batch: Batch) -> Batch:
    """The batch row, locked for this transaction and read afresh (PostgreSQL; SQLite
    serialises writers): the issue gate takes the same lock first, so an issue and a
    cancellation of one batch happen one after the other."""
    locked = session.exec(select(Batch).where(Batch.id == batch.id).with_for_update()).one()
    session.refresh(locked)
    return locked


def cancel_batch(
    session: Session, *, actor: User, batch_no: str, reason: str, clock: Clock
) -> Batch:
    """Cancel a planned batch with a reason: its status becomes "cancelled" (the batch and its
    bill of materials stay), it leaves the pick list, and nothing more is issued to it.

    Raises:
        PermissionDenied: not an active supervisor. NotFound: no such batch. GateViolation: no
        reason, already cancelled, started, or material issued to it still on it.
    """
    batch = lock_batch(session, get_batch(session, batch_no))
    problems: list[Violation] = []
    why = read_reason(reason, problems)
    if not may_cancel(actor, batch):
        require_role(actor, *CANCELLERS, action="cancel batches")  # the sentence naming the role
    # A supervisor is told why the batch is past cancelling, or what it still holds.
    problems = cancel_problems(session, batch) + problems
    require(problems, gate=True)
    before = batch.status
    batch.status = BatchStatus.CANCELLED.value
    session.add(batch)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="batch.cancelled",
        entity_type=RECORD_TYPE,
        entity_id=batch.id,
        before={"status": before},
        after={"status": batch.status, "batch_no": batch.batch_no},
        reason=why,
        clock=clock,
    )
    return batch


def _cancellation(session: Session, batch: Batch) -> Cancellation | None:
    if batch.status != BatchStatus.CANCELLED:
        return None
    row = session.exec(
        select(AuditEvent, User.full_name)
        .join(User, col(User.id) == AuditEvent.actor_id, isouter=True)
        .where(
            AuditEvent.entity_type == RECORD_TYPE,
            AuditEvent.entity_id == str(batch.id),
            AuditEvent.action == "batch.cancelled",
        )
        .order_by(col(AuditEvent.id).desc())
    ).first()
    if row is None:
        return None  # a status set behind the app's back: the state check names it
    event, name = row
    return Cancellation(name or event.actor_username, event.occurred_at, event.reason or "")
