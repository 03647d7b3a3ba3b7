"""Batches: created by a supervisor from the effective revision only, with the bill of materials
scaled to the planned quantity and frozen (kept to each unit's resolution, never rounded outside
a line's tolerance). Later issues execute them on the floor."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from app.models import Batch, BatchMaterial, ExcessIssueApproval, Material, Role, User
from app.services.core import audit
from app.services.core.actors import Actor, require_role
from app.services.core.clock import Clock
from app.services.core.dates import too_far_ahead
from app.services.core.errors import GateViolation, NotFound, PermissionDenied, Violation, require
from app.services.core.quantities import ScaledLine, parse_quantity, scale_line, shown
from app.services.core.text import max_length, read_text
from app.services.mbr import reading

BATCH_NO_RE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{1,39}$")


@dataclass(frozen=True)
class BatchIn:
    recipe_code: str
    batch_no: str
    planned: str
    customer_po: str = ""
    due_date: date | None = None


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


@dataclass
class BatchView:
    batch: Batch
    title: str
    materials: list[tuple[BatchMaterial, Material]]
    approvals: list[ApprovalView]  # excess issue approvals, oldest first


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
    return BatchView(batch, f"{recipe.code} rev {revision.revision}", list(rows), approvals)


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
    return list(session.exec(select(Batch).order_by(col(Batch.id).desc())))


def _scaled_bom(
    view: reading.RevisionView,
    planned: Decimal | None,
    batch_size: Decimal,
    problems: list[Violation],
) -> list[ScaledLine]:
    """Each BOM line scaled to `planned`, kept to its unit's resolution; a line that cannot be
    kept within its tolerance is a sentence beside the planned quantity."""
    if planned is None:
        return []
    factor = planned / batch_size
    lines = []
    for b in view.bom:
        line = scale_line(
            b.line.quantity,
            unit=b.line.unit,
            tolerance_kind=b.line.tolerance_kind,
            tolerance=b.line.tolerance,
            factor=factor,
            label=b.material.code,
            problems=problems,
        )
        if line is not None:
            lines.append(line)
    return lines


def create_batch(session: Session, *, actor: Actor, new: BatchIn, clock: Clock) -> Batch:
    """A batch from the recipe's effective revision, its BOM scaled and frozen.

    Raises:
        PermissionDenied: not supervisor or admin. GateViolation: no effective revision (the
        revision gate). Rejected: a bad or taken batch number, a bad planned quantity, or one
        for which a scaled BOM line cannot be kept to its unit's resolution within its
        tolerance.
    """
    require_role(actor, Role.SUPERVISOR, Role.ADMIN, action="create batches")
    if not isinstance(actor, User):
        raise PermissionDenied("A batch is created by a person, not by the system.")
    now = clock.now()
    code = new.recipe_code.strip().upper()
    revision = reading.effective_revision(session, code)
    if revision is None:
        raise GateViolation(
            [
                Violation(
                    "revision.not_effective",
                    f"{code or 'This product'} has no effective master batch record; a batch is "
                    "only ever made from an approved, effective revision.",
                    "recipe",
                )
            ]
        )
    problems: list[Violation] = []
    batch_no = new.batch_no.strip().upper()
    if not BATCH_NO_RE.match(batch_no):
        problems.append(
            Violation(
                "batch_no.format",
                "A batch number is 2-40 letters, digits, '.', '_', '/' or '-'.",
                "batch_no",
            )
        )
    elif session.exec(select(Batch).where(Batch.batch_no == batch_no)).first() is not None:
        problems.append(
            Violation("batch_no.taken", f"Batch {batch_no} already exists.", "batch_no")
        )
    planned = parse_quantity(new.planned, problems, "planned", unit=revision.batch_unit)
    customer_po = read_text(
        new.customer_po,
        field="customer_po",
        label="customer's PO",
        problems=problems,
        limit=max_length(Batch, "customer_po"),
        code=True,
    )
    too_far_ahead(new.due_date, today=clock.today(), field="due_date", label="due date",
                  problems=problems)  # fmt: skip
    view = reading.load_revision(session, revision.id)  # type: ignore[arg-type]
    lines = _scaled_bom(view, planned, revision.batch_size, problems)
    require(problems)
    assert planned is not None
    batch = Batch(
        batch_no=batch_no,
        recipe_id=revision.recipe_id,
        revision_id=revision.id,  # type: ignore[arg-type]
        planned_quantity=planned,
        unit=revision.batch_unit,
        customer_po=customer_po,
        due_date=new.due_date,
        created_at=now,
        created_by_id=actor.id,  # type: ignore[arg-type]
    )
    session.add(batch)
    session.flush()
    scaled = []
    for position, (b, line) in enumerate(zip(view.bom, lines, strict=True), start=1):
        quantity, tolerance = line.quantity, line.tolerance
        session.add(
            BatchMaterial(
                batch_id=batch.id,  # type: ignore[arg-type]
                position=position,
                material_id=b.material.id,  # type: ignore[arg-type]
                quantity=quantity,
                unit=b.line.unit,
                tolerance_kind=b.line.tolerance_kind,
                tolerance=tolerance,
                step_code=b.line.step_code,
            )
        )
        scaled.append({"material": b.material.code, "quantity": quantity, "unit": b.line.unit})
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="batch.created",
        entity_type="batch",
        entity_id=batch.id,
        after={
            "batch_no": batch_no,
            "revision": f"{code} rev {revision.revision}",
            "planned": planned,
            "unit": batch.unit,
            "bom": scaled,
            "customer_po": batch.customer_po,
            "due_date": batch.due_date,
        },
        clock=clock,
    )
    return batch
