"""Master batch records, read side: recipes, revisions and the content a signature covers.

A revision is edited only as a draft. Sending it to review freezes it; it becomes effective when
its author has signed it "authored" and a different QA person has signed it "approved" through
the signing service; that supersedes the previous effective revision. Effective and superseded
revisions never change (the database refuses too). A change is always a new revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from app.models import (
    BomLine,
    Material,
    Recipe,
    RecipeRevision,
    RecipeStep,
    RevisionStatus,
    Role,
    StepKind,
    StepLimit,
    ToleranceKind,
)
from app.services.core.errors import NotFound

RECORD_TYPE = "mbr_revision"


AUTHORS = (Role.ADMIN, Role.QA)


CONSUMING_KINDS = (StepKind.WEIGH, StepKind.MATERIAL_SCAN)


@dataclass
class StepView:
    step: RecipeStep
    limits: list[StepLimit]
    bom: list[BomLine] = field(default_factory=list)

    @property
    def kind(self) -> StepKind:
        return StepKind(self.step.kind)


@dataclass
class BomView:
    line: BomLine
    material: Material

    @property
    def tolerance_words(self) -> str:
        if self.line.tolerance_kind == ToleranceKind.PERCENT:
            return f"±{self.line.tolerance} %"
        return f"±{self.line.tolerance} {self.line.unit}"


@dataclass
class RevisionView:
    recipe: Recipe
    revision: RecipeRevision
    steps: list[StepView]
    bom: list[BomView]

    @property
    def status(self) -> RevisionStatus:
        return RevisionStatus(self.revision.status)

    @property
    def editable(self) -> bool:
        return self.status == RevisionStatus.DRAFT

    @property
    def title(self) -> str:
        return f"{self.recipe.code} rev {self.revision.revision}"

    @property
    def consuming_steps(self) -> list[StepView]:
        """The steps a BOM line may name as the one that consumes it."""
        return [s for s in self.steps if s.kind in CONSUMING_KINDS]


def list_recipes(session: Session) -> list[tuple[Recipe, list[RecipeRevision]]]:
    recipes = session.exec(select(Recipe).order_by(Recipe.code)).all()
    return [(r, revisions_of(session, r.id)) for r in recipes]  # type: ignore[arg-type]


def revisions_of(session: Session, recipe_id: int) -> list[RecipeRevision]:
    return list(
        session.exec(
            select(RecipeRevision)
            .where(RecipeRevision.recipe_id == recipe_id)
            .order_by(col(RecipeRevision.id))
        )
    )


def get_recipe(session: Session, recipe_id: int) -> Recipe:
    """Raises NotFound."""
    recipe = session.get(Recipe, recipe_id)
    if recipe is None:
        raise NotFound(f"There is no recipe with id {recipe_id}.")
    return recipe


def get_revision(session: Session, revision_id: int) -> RecipeRevision:
    """Raises NotFound."""
    revision = session.get(RecipeRevision, revision_id)
    if revision is None:
        raise NotFound(f"There is no recipe revision with id {revision_id}.")
    return revision


def effective_revision(session: Session, recipe_code: str) -> RecipeRevision | None:
    return session.exec(
        select(RecipeRevision)
        .join(Recipe, col(Recipe.id) == RecipeRevision.recipe_id)
        .where(Recipe.code == recipe_code, RecipeRevision.status == RevisionStatus.EFFECTIVE)
    ).first()


def load_revision(session: Session, revision_id: int) -> RevisionView:
    """A revision with its steps (and their limits and BOM lines) and BOM, in order."""
    revision = get_revision(session, revision_id)
    recipe = get_recipe(session, revision.recipe_id)
    steps = session.exec(
        select(RecipeStep)
        .where(RecipeStep.revision_id == revision.id)
        .order_by(col(RecipeStep.position))
    ).all()
    limits: dict[int, list[StepLimit]] = {}
    if steps:
        for limit in session.exec(
            select(StepLimit)
            .where(col(StepLimit.step_id).in_([s.id for s in steps]))
            .order_by(col(StepLimit.position))
        ):
            limits.setdefault(limit.step_id, []).append(limit)
    lines = session.exec(
        select(BomLine, Material)
        .join(Material, col(Material.id) == BomLine.material_id)
        .where(BomLine.revision_id == revision.id)
        .order_by(col(BomLine.position))
    ).all()
    bom = [BomView(line, material) for line, material in lines]
    views = [StepView(s, limits.get(s.id, [])) for s in steps]  # type: ignore[arg-type]
    by_code = {v.step.code: v for v in views}
    for line in bom:
        if line.line.step_code in by_code:
            by_code[line.line.step_code].bom.append(line.line)
    return RevisionView(recipe, revision, views, bom)


def content(view: RevisionView) -> dict[str, Any]:
    """What an MBR signature covers: everything the floor will execute, nothing of its status."""
    materials = {b.line.id: b.material.code for b in view.bom}
    return {
        "recipe": view.recipe.code,
        "name": view.recipe.name,
        "revision": view.revision.revision,
        "batch_size": view.revision.batch_size,
        "batch_unit": view.revision.batch_unit,
        "drawing_revision": view.revision.drawing_revision,
        "sop_codes": view.revision.sop_codes,
        "change_note": view.revision.change_note,
        "bom": [
            {
                "material": materials[b.line.id],
                "quantity": b.line.quantity,
                "unit": b.line.unit,
                "tolerance": b.line.tolerance,
                "tolerance_kind": b.line.tolerance_kind,
                "step": b.line.step_code,
            }
            for b in view.bom
        ],
        "steps": [
            {
                "code": s.step.code,
                "kind": s.step.kind,
                "title": s.step.title,
                "instruction": s.step.instruction,
                "equipment_kind": s.step.equipment_kind,
                "training": s.step.training_code,
                "per_unit": s.step.per_unit,
                "verification_required": s.step.verification_required,
                "limits": [
                    {"name": li.name, "unit": li.unit, "low": li.low, "high": li.high}
                    for li in s.limits
                ],
            }
            for s in view.steps
        ],
    }
