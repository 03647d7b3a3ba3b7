"""Excess issue approvals: a supervisor allows more of a BOM material to be issued to a batch
than its scaled target and tolerance, with a reason. The issue gate (warehouse/issuing.py) adds
what was approved to the batch's limit; the batch page shows each approval ("excess approved by
... : reason") so QA sees it in review."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, col, select

from app.models import Batch, BatchMaterial, ExcessIssueApproval, Material, Role, User
from app.services.core import audit
from app.services.core.actors import require_role
from app.services.core.clock import Clock
from app.services.core.errors import Violation, require
from app.services.core.idempotency import first_result, remember
from app.services.core.quantities import parse_quantity, shown
from app.services.core.text import max_length, read_reason, read_text
from app.services.execution.batches import get_batch, issue_problems


@dataclass(frozen=True)
class ExcessIssueIn:
    batch_no: str
    material_code: str
    quantity: str  # the extra quantity, in the BOM line's unit
    reason: str
    key: str = ""


def approved_excess(session: Session, *, batch_id: int, material_id: int) -> list[
    ExcessIssueApproval
]:  # fmt: skip
    """The excess approvals of one material for one batch, oldest first."""
    return list(
        session.exec(
            select(ExcessIssueApproval)
            .where(
                ExcessIssueApproval.batch_id == batch_id,
                ExcessIssueApproval.material_id == material_id,
            )
            .order_by(col(ExcessIssueApproval.id))
        )
    )


def approve_excess_issue(
    session: Session, *, actor: User, new: ExcessIssueIn, clock: Clock
) -> tuple[ExcessIssueApproval, bool]:
    """Record a supervisor's approval to issue `quantity` more of a BOM material to a batch
    than its target and tolerance allow. Returns the approval and whether this form had been
    submitted before (a double tap approves once).

    Raises:
        PermissionDenied: not a supervisor. NotFound: no such batch. Rejected: a material not
        on the batch's BOM, a bad quantity or one above the line's own target, no reason.
    """
    require_role(actor, Role.SUPERVISOR, action="approve an excess issue")
    now = clock.now()
    earlier = first_result(session, new.key, ExcessIssueApproval)
    if earlier is not None:
        return earlier, True
    batch = get_batch(session, new.batch_no)
    # An approval to issue more is for a batch still open for issue (not a cancelled one).
    problems: list[Violation] = issue_problems(session, batch)
    line, material = _bom_line(session, batch, new.material_code, problems)
    quantity = parse_quantity(new.quantity, problems, unit=line.unit if line else None)
    reason = read_reason(new.reason, problems)
    if line is not None and quantity is not None and quantity > line.quantity:
        # A slip of the decimal point (50 for 0.50) is not an excess; a larger loss is a
        # deviation for QA, not a supervisor's approval.
        problems.append(
            Violation(
                "quantity.range",
                f"One approval covers at most the target again ({shown(line.quantity, line.unit)}"
                f" of {material.code if material else '?'}); for more, raise a deviation.",
                "quantity",
            )
        )
    require(problems)
    assert line is not None
    assert material is not None
    assert quantity is not None
    approval = ExcessIssueApproval(
        batch_id=batch.id,  # type: ignore[arg-type]
        material_id=material.id,  # type: ignore[arg-type]
        quantity=quantity,
        unit=line.unit,
        reason=reason,
        approved_at=now,
        approved_by_id=actor.id,  # type: ignore[arg-type]
    )
    session.add(approval)
    session.flush()
    remember(
        session, key=new.key, form="excess_issue", user=actor,
        result=f"excess_issue_approval:{approval.id}", clock=clock,
    )  # fmt: skip
    audit.record(
        session,
        actor=actor,
        action="batch.excess_issue_approved",
        entity_type="batch",
        entity_id=batch.id,
        after={"batch_no": batch.batch_no, "material": material.code, "quantity": quantity,
               "unit": line.unit, "approval": approval.id},
        reason=reason,
        clock=clock,
    )  # fmt: skip
    return approval, False


def _bom_line(
    session: Session, batch: Batch, material_code: str, problems: list[Violation]
) -> tuple[BatchMaterial | None, Material | None]:
    """The batch's BOM line of the material (the first, where it is listed twice)."""
    code = read_text(
        material_code, field="material", label="material", problems=problems,
        limit=max_length(Material, "code"), required=True, code=True,
        empty="Choose the material.",
    ).upper()  # fmt: skip
    if not code:
        return None, None
    row = session.exec(
        select(BatchMaterial, Material)
        .join(Material, col(Material.id) == BatchMaterial.material_id)
        .where(BatchMaterial.batch_id == batch.id, Material.code == code)
        .order_by(col(BatchMaterial.position))
    ).first()
    if row is None:
        problems.append(
            Violation(
                "material.not_on_bom",
                f"Batch {batch.batch_no} does not use {code}; only a material "
                "of its bill of materials can be issued to it.",
                "material",
            )
        )
        return None, None
    return row[0], row[1]


def total(approvals: list[ExcessIssueApproval]) -> Decimal:
    return sum((a.quantity for a in approvals), Decimal(0))
