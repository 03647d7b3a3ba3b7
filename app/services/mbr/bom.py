"""The bill of materials of a draft revision."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from app.models import (
    BomLine,
    Material,
    RecipeRevision,
    RecipeStep,
    StepKind,
    ToleranceKind,
)
from app.services.core.actors import Actor
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, Violation, require
from app.services.core.text import max_length, read_text
from app.services.mbr.drafts import audit_revision, editable_draft, read_decimal
from app.services.mbr.reading import CONSUMING_KINDS


@dataclass(frozen=True)
class BomLineIn:
    material_code: str
    quantity: str
    unit: str
    tolerance: str
    tolerance_kind: str = ToleranceKind.PERCENT.value
    step_code: str = ""


def _bom_problems(
    session: Session, revision: RecipeRevision, new: BomLineIn
) -> tuple[list[Violation], Material | None, Decimal | None, Decimal | None]:
    problems: list[Violation] = []
    material = session.exec(
        select(Material).where(Material.code == new.material_code.strip().upper())
    ).first()
    if material is None:
        problems.append(
            Violation(
                "material.unknown", f"There is no material {new.material_code!r}.", "material"
            )
        )
    elif not material.active:
        problems.append(
            Violation("material.inactive", f"Material {material.code} is deactivated.", "material")
        )
    quantity = read_decimal(new.quantity, field="quantity", label="quantity", problems=problems)
    read_text(
        new.unit,
        field="unit",
        label="unit",
        problems=problems,
        limit=max_length(BomLine, "unit"),
        required=True,
        code=True,
        empty="Enter the unit.",
    )
    tolerance = read_decimal(
        new.tolerance, field="tolerance", label="tolerance", problems=problems, positive=False
    )
    try:
        kind = ToleranceKind(new.tolerance_kind)
    except ValueError:
        problems.append(Violation("tolerance_kind.unknown", "Choose ± % or ± amount.", "tolerance"))
        kind = None
    if kind == ToleranceKind.PERCENT and tolerance is not None and tolerance > 100:
        problems.append(
            Violation("tolerance.range", "A tolerance above 100 % makes no sense.", "tolerance")
        )
    if (
        kind == ToleranceKind.ABSOLUTE
        and tolerance is not None
        and quantity is not None
        and tolerance >= quantity
    ):
        problems.append(
            Violation(
                "tolerance.range", "The tolerance must be smaller than the quantity.", "tolerance"
            )
        )
    step_code = new.step_code.strip()
    if step_code:
        step = session.exec(
            select(RecipeStep).where(
                RecipeStep.revision_id == revision.id, RecipeStep.code == step_code
            )
        ).first()
        if step is None:
            problems.append(
                Violation("step.unknown", f"There is no step {step_code} in this revision.", "step")
            )
        elif StepKind(step.kind) not in CONSUMING_KINDS:
            problems.append(
                Violation(
                    "step.kind",
                    f"Step {step_code} is a “{StepKind(step.kind).label}” step; material is "
                    "consumed by a weigh or material-scan step.",
                    "step",
                )
            )
    return problems, material, quantity, tolerance


def _bom_values(line: BomLine, material: Material) -> dict[str, Any]:
    values = line.model_dump(exclude={"id", "revision_id", "material_id"})
    values["material"] = material.code
    return values


def add_bom_line(
    session: Session,
    *,
    actor: Actor,
    revision_id: int,
    new: BomLineIn,
    clock: Clock,
) -> BomLine:
    """Add a material to a draft's bill of materials. Raises PermissionDenied, Rejected."""
    revision = editable_draft(session, actor, revision_id, "author master batch records")
    problems, material, quantity, tolerance = _bom_problems(session, revision, new)
    require(problems)
    assert material is not None
    last = session.exec(
        select(BomLine.position)
        .where(BomLine.revision_id == revision.id)
        .order_by(col(BomLine.position).desc())
    ).first()
    line = BomLine(
        revision_id=revision.id,  # type: ignore[arg-type]
        position=(last or 0) + 1,
        material_id=material.id,  # type: ignore[arg-type]
        quantity=quantity,  # type: ignore[arg-type]
        unit=new.unit.strip(),
        tolerance_kind=ToleranceKind(new.tolerance_kind).value,
        tolerance=tolerance,  # type: ignore[arg-type]
        step_code=new.step_code.strip() or None,
    )
    session.add(line)
    session.flush()
    audit_revision(
        session, actor, revision, "bom_added", after=_bom_values(line, material), clock=clock
    )
    return line


def _line_of(session: Session, actor: Actor, line_id: int) -> tuple[BomLine, RecipeRevision]:
    line = session.get(BomLine, line_id)
    if line is None:
        raise NotFound(f"There is no BOM line with id {line_id}.")
    return line, editable_draft(session, actor, line.revision_id, "author master batch records")


def update_bom_line(
    session: Session, *, actor: Actor, line_id: int, new: BomLineIn, clock: Clock
) -> BomLine:
    """Change a BOM line of a draft. Raises NotFound, PermissionDenied, Rejected."""
    line, revision = _line_of(session, actor, line_id)
    problems, material, quantity, tolerance = _bom_problems(session, revision, new)
    require(problems)
    assert material is not None
    before = _bom_values(line, session.get(Material, line.material_id))  # type: ignore[arg-type]
    line.material_id = material.id  # type: ignore[assignment]
    line.quantity = quantity  # type: ignore[assignment]
    line.unit = new.unit.strip()
    line.tolerance_kind = ToleranceKind(new.tolerance_kind).value
    line.tolerance = tolerance  # type: ignore[assignment]
    line.step_code = new.step_code.strip() or None
    session.add(line)
    session.flush()
    audit_revision(
        session,
        actor,
        revision,
        "bom_changed",
        before=before,
        after=_bom_values(line, material),
        clock=clock,
    )
    return line


def remove_bom_line(session: Session, *, actor: Actor, line_id: int, clock: Clock) -> None:
    """Remove a BOM line from a draft. Raises NotFound, PermissionDenied, Rejected."""
    line, revision = _line_of(session, actor, line_id)
    before = _bom_values(line, session.get(Material, line.material_id))  # type: ignore[arg-type]
    session.delete(line)
    session.flush()
    audit_revision(session, actor, revision, "bom_removed", before=before, clock=clock)
