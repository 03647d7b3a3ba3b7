"""Master batch records: recipes, revisions and their authoring, review and approval.

A revision is edited only as a draft. Sending it to review freezes it; it becomes effective when
its author has signed it "authored" and a different QA person has signed it "approved" through
the signing service; that supersedes the previous effective revision. Effective and superseded
revisions never change (the database refuses too). A change is always a new revision.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session, col, select

from app.errors import NotFound, PermissionDenied, Rejected, Violation, require
from app.models import (
    AuditEvent,
    BomLine,
    EquipmentKind,
    Material,
    Meaning,
    Recipe,
    RecipeRevision,
    RecipeStep,
    RevisionStatus,
    Role,
    Signature,
    StepKind,
    StepLimit,
    ToleranceKind,
    User,
)
from app.models.base import utcnow
from app.services import audit, signable
from app.services.actors import Actor, SystemActor, require_role

RECORD_TYPE = "mbr_revision"
AUTHORS = (Role.ADMIN, Role.QA)
CONSUMING_KINDS = (StepKind.WEIGH, StepKind.MATERIAL_SCAN)


# ---------------------------------------------------------------- input shapes


@dataclass(frozen=True)
class LimitIn:
    name: str
    unit: str = ""
    low: str = ""
    high: str = ""


@dataclass(frozen=True)
class StepIn:
    code: str
    kind: str
    title: str
    instruction: str = ""
    equipment_kind: str = ""
    training_code: str = ""
    per_unit: bool = False
    verification_required: bool = False
    limits: tuple[LimitIn, ...] = ()


@dataclass(frozen=True)
class BomLineIn:
    material_code: str
    quantity: str
    unit: str
    tolerance: str
    tolerance_kind: str = ToleranceKind.PERCENT.value
    step_code: str = ""


@dataclass(frozen=True)
class HeaderIn:
    batch_size: str
    batch_unit: str
    drawing_revision: str = ""
    sop_codes: str = ""
    change_note: str = ""


# ---------------------------------------------------------------- read side


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


# ---------------------------------------------------------------- parsing helpers


def _decimal(
    raw: str, *, field: str, label: str, problems: list[Violation], positive: bool = True
) -> Decimal | None:
    text = (raw or "").strip().replace(",", ".")
    if not text:
        problems.append(Violation(f"{field}.empty", f"Enter the {label}.", field))
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        problems.append(Violation(f"{field}.number", f"The {label} must be a number.", field))
        return None
    if not value.is_finite() or (value <= 0 if positive else value < 0):
        word = "more than zero" if positive else "zero or more"
        problems.append(Violation(f"{field}.range", f"The {label} must be {word}.", field))
        return None
    return value


def _optional_decimal(raw: str, *, field: str, label: str, problems: list[Violation]) -> Any:
    text = (raw or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        problems.append(Violation(f"{field}.number", f"The {label} must be a number.", field))
        return None
    return value if value.is_finite() else None


def _codes(raw: str) -> str:
    return ",".join(sorted({c.strip().upper() for c in (raw or "").split(",") if c.strip()}))


# ---------------------------------------------------------------- guards


def _require_author(actor: Actor, action: str) -> None:
    require_role(actor, *AUTHORS, action=action)


def _require_draft(revision: RecipeRevision, recipe: Recipe | None = None) -> None:
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


def _editable(session: Session, actor: Actor, revision_id: int, action: str) -> RecipeRevision:
    _require_author(actor, action)
    revision = get_revision(session, revision_id)
    _require_draft(revision)
    return revision


def _audit(
    session: Session,
    actor: Actor,
    revision: RecipeRevision,
    action: str,
    now: datetime,
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
        now=now,
    )


def _transition(
    session: Session,
    actor: Actor,
    revision: RecipeRevision,
    to: RevisionStatus,
    action: str,
    now: datetime,
    *,
    reason: str | None = None,
    **after: Any,
) -> None:
    """Move a revision to another status, stamp the time, and audit from-to in one place."""
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
    _audit(
        session, actor, revision, action, now, before=before, after={"status": to.value, **after},
        reason=reason,
    )  # fmt: skip


# ---------------------------------------------------------------- recipes and revisions


def create_recipe(
    session: Session,
    *,
    actor: Actor,
    code: str,
    name: str,
    header: HeaderIn,
    product_code: str = "",
    now: datetime | None = None,
) -> RecipeRevision:
    """A new product recipe with its first draft revision, A.

    Raises:
        PermissionDenied: not admin or QA. Rejected: bad or duplicate fields.
    """
    _require_author(actor, "author master batch records")
    now = now or utcnow()
    code = code.strip().upper()
    problems: list[Violation] = []
    if not code:
        problems.append(Violation("code.empty", "Enter the product code.", "code"))
    elif session.exec(select(Recipe).where(Recipe.code == code)).first():
        problems.append(Violation("code.taken", f"There is already a recipe {code}.", "code"))
    if not name.strip():
        problems.append(Violation("name.empty", "Enter the product name.", "name"))
    product = None
    if product_code.strip():
        product = session.exec(
            select(Material).where(Material.code == product_code.strip().upper())
        ).first()
        if product is None:
            problems.append(
                Violation("product.unknown", f"There is no material {product_code}.", "product")
            )
    size = _decimal(header.batch_size, field="batch_size", label="batch size", problems=problems)
    if not header.batch_unit.strip():
        problems.append(Violation("batch_unit.empty", "Enter the batch unit.", "batch_unit"))
    require(problems)
    recipe = Recipe(
        code=code,
        name=name.strip(),
        product_material_id=product.id if product else None,
        created_at=now,
    )
    session.add(recipe)
    session.flush()
    revision = _new_revision_row(recipe, "A", header, size, actor, now)  # type: ignore[arg-type]
    session.add(revision)
    session.flush()
    _audit(session, actor, revision, "created", now, after={"recipe": code, "name": recipe.name})
    return revision


def _new_revision_row(
    recipe: Recipe,
    letter: str,
    header: HeaderIn,
    size: Decimal,
    actor: Actor,
    now: datetime,
    based_on: RecipeRevision | None = None,
) -> RecipeRevision:
    return RecipeRevision(
        recipe_id=recipe.id,  # type: ignore[arg-type]
        revision=letter,
        status=RevisionStatus.DRAFT.value,
        batch_size=size,
        batch_unit=header.batch_unit.strip(),
        drawing_revision=header.drawing_revision.strip(),
        sop_codes=_codes(header.sop_codes),
        change_note=header.change_note.strip(),
        based_on_id=based_on.id if based_on else None,
        created_by_id=_user_id(actor),
        created_at=now,
    )


def _user_id(actor: Actor) -> int:
    if isinstance(actor, User):
        return actor.id  # type: ignore[return-value]
    raise PermissionDenied("A revision is authored by a person, not by the system.")


def _next_letter(existing: Iterable[str]) -> str:
    used = set(existing)
    for letter in string.ascii_uppercase:
        if letter not in used:
            return letter
    raise Rejected([Violation("revision.letters", "This recipe has used every letter A-Z.")])


def start_revision(
    session: Session, *, actor: Actor, recipe_id: int, now: datetime | None = None
) -> RecipeRevision:
    """A new draft copied from the newest revision (a change is always a new revision).

    Raises:
        PermissionDenied: not admin or QA. Rejected: a draft or review is already open.
    """
    _require_author(actor, "author master batch records")
    now = now or utcnow()
    recipe = get_recipe(session, recipe_id)
    revisions = revisions_of(session, recipe_id)
    open_ = [r for r in revisions if r.status in (RevisionStatus.DRAFT, RevisionStatus.IN_REVIEW)]
    if open_:
        raise Rejected(
            [
                Violation(
                    "revision.open",
                    f"Revision {open_[0].revision} is still "
                    f"{RevisionStatus(open_[0].status).label.lower()}; "
                    "finish it before starting another.",
                )
            ]
        )
    source = load_revision(session, revisions[-1].id)  # type: ignore[arg-type]
    header = HeaderIn(
        batch_size=str(source.revision.batch_size),
        batch_unit=source.revision.batch_unit,
        drawing_revision=source.revision.drawing_revision,
        sop_codes=source.revision.sop_codes,
    )
    letter = _next_letter(r.revision for r in revisions)
    revision = _new_revision_row(
        recipe, letter, header, source.revision.batch_size, actor, now, based_on=source.revision
    )
    session.add(revision)
    session.flush()
    for sv in source.steps:
        step = RecipeStep(
            **sv.step.model_dump(exclude={"id", "revision_id"}),
            revision_id=revision.id,
        )
        session.add(step)
        session.flush()
        for li in sv.limits:
            session.add(StepLimit(**li.model_dump(exclude={"id", "step_id"}), step_id=step.id))
    for b in source.bom:
        session.add(
            BomLine(**b.line.model_dump(exclude={"id", "revision_id"}), revision_id=revision.id)
        )
    session.flush()
    _audit(
        session,
        actor,
        revision,
        "revision_started",
        now,
        after={"recipe": recipe.code, "revision": letter, "based_on": source.revision.revision},
    )
    return revision


def update_header(
    session: Session,
    *,
    actor: Actor,
    revision_id: int,
    header: HeaderIn,
    now: datetime | None = None,
) -> RecipeRevision:
    """Change batch size, unit, drawing revision, SOP references and change note of a draft.

    Raises:
        PermissionDenied, Rejected (frozen revision or bad fields).
    """
    now = now or utcnow()
    revision = _editable(session, actor, revision_id, "author master batch records")
    problems: list[Violation] = []
    size = _decimal(header.batch_size, field="batch_size", label="batch size", problems=problems)
    if not header.batch_unit.strip():
        problems.append(Violation("batch_unit.empty", "Enter the batch unit.", "batch_unit"))
    require(problems)
    before = _header_values(revision)
    revision.batch_size = size  # type: ignore[assignment]
    revision.batch_unit = header.batch_unit.strip()
    revision.drawing_revision = header.drawing_revision.strip()
    revision.sop_codes = _codes(header.sop_codes)
    revision.change_note = header.change_note.strip()
    session.add(revision)
    session.flush()
    _audit(
        session,
        actor,
        revision,
        "header_changed",
        now,
        before=before,
        after=_header_values(revision),
    )
    return revision


def _header_values(revision: RecipeRevision) -> dict[str, Any]:
    return {
        "batch_size": revision.batch_size,
        "batch_unit": revision.batch_unit,
        "drawing_revision": revision.drawing_revision,
        "sop_codes": revision.sop_codes,
        "change_note": revision.change_note,
    }


# ---------------------------------------------------------------- steps


def _step_problems(
    session: Session, revision: RecipeRevision, new: StepIn, step_id: int | None
) -> tuple[list[Violation], list[tuple[str, str, Decimal | None, Decimal | None]]]:
    problems: list[Violation] = []
    code = new.code.strip()
    if not code:
        problems.append(Violation("code.empty", "Enter the step number (e.g. 10).", "code"))
    else:
        clash = session.exec(
            select(RecipeStep).where(RecipeStep.revision_id == revision.id, RecipeStep.code == code)
        ).first()
        if clash is not None and clash.id != step_id:
            problems.append(
                Violation("code.taken", f"Step {code} already exists in this revision.", "code")
            )
    try:
        kind = StepKind(new.kind)
    except ValueError:
        problems.append(Violation("kind.unknown", "Choose what kind of step this is.", "kind"))
        kind = None
    if not new.title.strip():
        problems.append(Violation("title.empty", "Give the step a title.", "title"))
    if new.equipment_kind:
        try:
            EquipmentKind(new.equipment_kind)
        except ValueError:
            problems.append(
                Violation("equipment_kind.unknown", "Choose a kind of equipment.", "equipment_kind")
            )
    elif kind == StepKind.EQUIPMENT_CHECK:
        problems.append(
            Violation(
                "equipment_kind.empty",
                "An equipment check needs the kind of equipment it checks.",
                "equipment_kind",
            )
        )
    if new.training_code.strip():
        from app.services.training import get_curriculum

        if get_curriculum(session, new.training_code) is None:
            problems.append(
                Violation(
                    "training.unknown",
                    f"There is no curriculum {new.training_code.strip().upper()}.",
                    "training_code",
                )
            )
    limits = []
    for i, li in enumerate(new.limits, start=1):
        if not (li.name.strip() or li.low.strip() or li.high.strip()):
            continue
        field_ = f"limit{i}"
        if not li.name.strip():
            problems.append(Violation(f"{field_}.name", f"Limit {i}: name the value.", field_))
        low = _optional_decimal(li.low, field=field_, label=f"limit {i} low", problems=problems)
        high = _optional_decimal(li.high, field=field_, label=f"limit {i} high", problems=problems)
        if low is None and high is None and not li.low.strip() and not li.high.strip():
            problems.append(
                Violation(f"{field_}.bounds", f"Limit {i}: give a low or a high limit.", field_)
            )
        if low is not None and high is not None and low > high:
            problems.append(
                Violation(f"{field_}.order", f"Limit {i}: the low limit is above the high.", field_)
            )
        limits.append((li.name.strip(), li.unit.strip(), low, high))
    if kind is not None and kind.has_limits and not limits and not problems:
        problems.append(
            Violation(
                "limits.empty",
                f"A “{kind.label}” step needs at least one value with limits.",
                "limit1",
            )
        )
    return problems, limits


def _step_values(step: RecipeStep, limits: Iterable[Any]) -> dict[str, Any]:
    values = step.model_dump(exclude={"id", "revision_id"})
    values["limits"] = [{"name": n, "unit": u, "low": lo, "high": hi} for n, u, lo, hi in limits]
    return values


def _write_limits(
    session: Session,
    step: RecipeStep,
    limits: list[tuple[str, str, Decimal | None, Decimal | None]],
) -> None:
    for old in session.exec(select(StepLimit).where(StepLimit.step_id == step.id)):
        session.delete(old)
    session.flush()
    for position, (name, unit, low, high) in enumerate(limits, start=1):
        session.add(
            StepLimit(step_id=step.id, position=position, name=name, unit=unit, low=low, high=high)  # type: ignore[arg-type]
        )
    session.flush()


def add_step(
    session: Session,
    *,
    actor: Actor,
    revision_id: int,
    new: StepIn,
    now: datetime | None = None,
) -> RecipeStep:
    """Append a step to a draft.

    Raises:
        PermissionDenied, Rejected (frozen revision or bad fields, each beside its field).
    """
    now = now or utcnow()
    revision = _editable(session, actor, revision_id, "author master batch records")
    problems, limits = _step_problems(session, revision, new, None)
    require(problems)
    last = session.exec(
        select(RecipeStep.position)
        .where(RecipeStep.revision_id == revision.id)
        .order_by(col(RecipeStep.position).desc())
    ).first()
    step = RecipeStep(revision_id=revision.id, position=(last or 0) + 1)  # type: ignore[arg-type]
    _apply_step(step, new)
    session.add(step)
    session.flush()
    _write_limits(session, step, limits)
    _audit(session, actor, revision, "step_added", now, after=_step_values(step, limits))
    return step


def _apply_step(step: RecipeStep, new: StepIn) -> None:
    step.code = new.code.strip()
    step.kind = StepKind(new.kind).value
    step.title = new.title.strip()
    step.instruction = new.instruction.strip()
    step.equipment_kind = new.equipment_kind or None
    step.training_code = new.training_code.strip().upper() or None
    step.per_unit = new.per_unit
    step.verification_required = new.verification_required


def _step_of(session: Session, actor: Actor, step_id: int) -> tuple[RecipeStep, RecipeRevision]:
    step = session.get(RecipeStep, step_id)
    if step is None:
        raise NotFound(f"There is no step with id {step_id}.")
    revision = _editable(session, actor, step.revision_id, "author master batch records")
    return step, revision


def update_step(
    session: Session, *, actor: Actor, step_id: int, new: StepIn, now: datetime | None = None
) -> RecipeStep:
    """Change a step of a draft. Raises NotFound, PermissionDenied, Rejected."""
    now = now or utcnow()
    step, revision = _step_of(session, actor, step_id)
    problems, limits = _step_problems(session, revision, new, step.id)
    require(problems)
    old_limits = session.exec(
        select(StepLimit).where(StepLimit.step_id == step.id).order_by(col(StepLimit.position))
    ).all()
    before = _step_values(step, [(li.name, li.unit, li.low, li.high) for li in old_limits])
    old_code = step.code
    _apply_step(step, new)
    session.add(step)
    if old_code != step.code:  # BOM lines follow their step
        for line in session.exec(
            select(BomLine).where(BomLine.revision_id == revision.id, BomLine.step_code == old_code)
        ):
            line.step_code = step.code
            session.add(line)
    session.flush()
    _write_limits(session, step, limits)
    _audit(
        session,
        actor,
        revision,
        "step_changed",
        now,
        before=before,
        after=_step_values(step, limits),
    )
    return step


def move_step(
    session: Session, *, actor: Actor, step_id: int, offset: int, now: datetime | None = None
) -> RecipeStep:
    """Move a step of a draft up (-1) or down (+1). Raises NotFound, PermissionDenied, Rejected."""
    now = now or utcnow()
    step, revision = _step_of(session, actor, step_id)
    steps = list(
        session.exec(
            select(RecipeStep)
            .where(RecipeStep.revision_id == revision.id)
            .order_by(col(RecipeStep.position))
        )
    )
    index = steps.index(step)
    target = index + offset
    if not 0 <= target < len(steps):
        raise Rejected([Violation("step.edge", "The step is already at that end.")])
    steps.insert(target, steps.pop(index))
    # Two passes keep positions distinct at every flush.
    for position, s in enumerate(steps, start=1):
        s.position = position
        session.add(s)
    session.flush()
    _audit(
        session,
        actor,
        revision,
        "step_moved",
        now,
        before={"code": step.code, "position": index + 1},
        after={"code": step.code, "position": target + 1},
    )
    return step


def remove_step(
    session: Session, *, actor: Actor, step_id: int, now: datetime | None = None
) -> None:
    """Remove a step from a draft (its BOM lines lose their step). Raises NotFound,
    PermissionDenied, Rejected."""
    now = now or utcnow()
    step, revision = _step_of(session, actor, step_id)
    old_limits = session.exec(select(StepLimit).where(StepLimit.step_id == step.id)).all()
    before = _step_values(step, [(li.name, li.unit, li.low, li.high) for li in old_limits])
    for li in old_limits:
        session.delete(li)
    for line in session.exec(
        select(BomLine).where(BomLine.revision_id == revision.id, BomLine.step_code == step.code)
    ):
        line.step_code = None
        session.add(line)
    session.delete(step)
    session.flush()
    for position, s in enumerate(
        session.exec(
            select(RecipeStep)
            .where(RecipeStep.revision_id == revision.id)
            .order_by(col(RecipeStep.position))
        ),
        start=1,
    ):
        s.position = position
        session.add(s)
    session.flush()
    _audit(session, actor, revision, "step_removed", now, before=before)


# ---------------------------------------------------------------- BOM


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
    quantity = _decimal(new.quantity, field="quantity", label="quantity", problems=problems)
    if not new.unit.strip():
        problems.append(Violation("unit.empty", "Enter the unit.", "unit"))
    tolerance = _decimal(
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
    now: datetime | None = None,
) -> BomLine:
    """Add a material to a draft's bill of materials. Raises PermissionDenied, Rejected."""
    now = now or utcnow()
    revision = _editable(session, actor, revision_id, "author master batch records")
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
    _audit(session, actor, revision, "bom_added", now, after=_bom_values(line, material))
    return line


def _line_of(session: Session, actor: Actor, line_id: int) -> tuple[BomLine, RecipeRevision]:
    line = session.get(BomLine, line_id)
    if line is None:
        raise NotFound(f"There is no BOM line with id {line_id}.")
    return line, _editable(session, actor, line.revision_id, "author master batch records")


def update_bom_line(
    session: Session, *, actor: Actor, line_id: int, new: BomLineIn, now: datetime | None = None
) -> BomLine:
    """Change a BOM line of a draft. Raises NotFound, PermissionDenied, Rejected."""
    now = now or utcnow()
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
    _audit(
        session,
        actor,
        revision,
        "bom_changed",
        now,
        before=before,
        after=_bom_values(line, material),
    )
    return line


def remove_bom_line(
    session: Session, *, actor: Actor, line_id: int, now: datetime | None = None
) -> None:
    """Remove a BOM line from a draft. Raises NotFound, PermissionDenied, Rejected."""
    now = now or utcnow()
    line, revision = _line_of(session, actor, line_id)
    before = _bom_values(line, session.get(Material, line.material_id))  # type: ignore[arg-type]
    session.delete(line)
    session.flush()
    _audit(session, actor, revision, "bom_removed", now, before=before)


# ---------------------------------------------------------------- review and approval


def completeness_problems(view: RevisionView) -> list[Violation]:
    """What keeps a draft from going to review (all of it, in words)."""
    problems = []
    if not view.steps:
        problems.append(Violation("steps.empty", "The revision has no steps."))
    if not view.bom:
        problems.append(Violation("bom.empty", "The revision has no bill of materials."))
    for b in view.bom:
        if not b.line.step_code:
            problems.append(
                Violation(
                    "bom.step",
                    f"BOM line {b.material.code} does not name the step that consumes it.",
                )
            )
    for s in view.steps:
        if s.kind == StepKind.WEIGH and not s.bom:
            problems.append(
                Violation("step.bom", f"Weigh step {s.step.code} has no material to weigh.")
            )
    return problems


def submit_for_review(
    session: Session, *, actor: Actor, revision_id: int, now: datetime | None = None
) -> RecipeRevision:
    """Freeze a complete draft for review.

    Raises:
        PermissionDenied: not admin or QA. Rejected: not a draft, or incomplete (every gap).
    """
    now = now or utcnow()
    revision = _editable(session, actor, revision_id, "send master batch records to review")
    require(completeness_problems(load_revision(session, revision_id)))
    _transition(session, actor, revision, RevisionStatus.IN_REVIEW, "submitted", now)
    return revision


def return_to_draft(
    session: Session, *, actor: Actor, revision_id: int, reason: str, now: datetime | None = None
) -> RecipeRevision:
    """Send a revision in review back to its author; signatures made in review lapse.

    Raises:
        PermissionDenied: not admin or QA. Rejected: not in review, or no reason.
    """
    now = now or utcnow()
    _require_author(actor, "return master batch records to draft")
    revision = get_revision(session, revision_id)
    problems = []
    if revision.status != RevisionStatus.IN_REVIEW:
        problems.append(
            Violation("revision.status", "Only a revision in review can go back to draft.")
        )
    if not reason.strip():
        problems.append(
            Violation("reason.empty", "Give a reason; it is kept in the audit trail.", "reason")
        )
    require(problems)
    _transition(
        session, actor, revision, RevisionStatus.DRAFT, "returned_to_draft", now,
        reason=reason.strip(),
    )  # fmt: skip
    return revision


def review_signatures(session: Session, revision: RecipeRevision) -> dict[Meaning, Signature]:
    """The "authored" and "approved" signatures made during the current review."""
    if revision.submitted_at is None:
        return {}
    found: dict[Meaning, Signature] = {}
    for sig in session.exec(
        select(Signature)
        .where(Signature.record_type == RECORD_TYPE, Signature.record_id == str(revision.id))
        .order_by(col(Signature.id))
    ):
        if sig.signed_at >= revision.submitted_at:
            found[Meaning(sig.meaning)] = sig
    return found


def _rules(revision_id: int) -> signable.Rules:
    def rules(session: Session, signer: User, meaning: Meaning) -> list[Violation]:
        revision = get_revision(session, revision_id)
        if revision.status != RevisionStatus.IN_REVIEW:
            return [
                Violation(
                    "revision.status",
                    f"Revision {revision.revision} is "
                    f"{RevisionStatus(revision.status).label.lower()}; "
                    "only a revision in review is signed.",
                )
            ]
        signed = review_signatures(session, revision)
        if meaning in signed:
            return [
                Violation(
                    "revision.signed",
                    f"This revision already carries its “{meaning.label}” signature.",
                )
            ]
        if meaning == Meaning.APPROVED:
            author = signed.get(Meaning.AUTHORED)
            if author is None:
                return [
                    Violation("revision.unauthored", "The author signs first, then QA approves.")
                ]
            if signer.id in (author.signer_id, revision.created_by_id):
                return [
                    Violation(
                        "revision.own",
                        "You wrote this revision; a different QA person must approve it.",
                    )
                ]
        return []

    return rules


def _after_signing(session: Session, signature: Signature, now: datetime) -> None:
    """The approval makes the revision effective and supersedes the one before it."""
    if signature.meaning != Meaning.APPROVED:
        return
    revision = get_revision(session, int(signature.record_id))
    _make_effective(session, revision, actor=session.get(User, signature.signer_id), now=now)  # type: ignore[arg-type]


def _make_effective(
    session: Session,
    revision: RecipeRevision,
    *,
    actor: Actor,
    now: datetime,
    reason: str | None = None,
) -> None:
    previous = session.exec(
        select(RecipeRevision).where(
            RecipeRevision.recipe_id == revision.recipe_id,
            RecipeRevision.status == RevisionStatus.EFFECTIVE,
        )
    ).first()
    if previous is not None:
        _transition(
            session, actor, previous, RevisionStatus.SUPERSEDED, "superseded", now,
            by=revision.revision,
        )  # fmt: skip
    _transition(session, actor, revision, RevisionStatus.EFFECTIVE, "effective", now, reason=reason)


def approve_outside_the_system(
    session: Session,
    *,
    actor: Actor,
    revision_id: int,
    reference: str,
    now: datetime | None = None,
) -> RecipeRevision:
    """Bring in a revision approved on paper before go-live (the installer's CLI and the demo).

    Only the system actor may do this, with the paper approval's reference; the audit trail and
    the revision page say so plainly. People approve through signatures.

    Raises:
        PermissionDenied: called for a person. Rejected: no reference, or not in review.
    """
    if not isinstance(actor, SystemActor):
        raise PermissionDenied("Revisions are approved by signature; only migration uses paper.")
    now = now or utcnow()
    revision = get_revision(session, revision_id)
    problems = []
    if revision.status != RevisionStatus.IN_REVIEW:
        problems.append(Violation("revision.status", "Send the revision to review first."))
    if not reference.strip():
        problems.append(Violation("reference.empty", "Give the paper approval's reference."))
    require(problems)
    _make_effective(
        session, revision, actor=actor, now=now, reason=f"Approved outside the system: {reference}"
    )
    return revision


def paper_approval(session: Session, revision: RecipeRevision) -> str | None:
    """The reference of a paper approval, if this revision came in that way."""
    event = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.entity_type == RECORD_TYPE,
            AuditEvent.entity_id == str(revision.id),
            AuditEvent.action == "mbr.effective",
        )
        .order_by(col(AuditEvent.id).desc())
    ).first()
    if event is None or not (event.reason or "").startswith("Approved outside the system"):
        return None
    return event.reason


@signable.register(RECORD_TYPE)
def _load_signable(session: Session, record_id: str) -> signable.Signable:
    try:
        revision_id = int(record_id)
    except ValueError:
        raise NotFound(f"There is no recipe revision {record_id!r}.") from None
    view = load_revision(session, revision_id)
    return signable.Signable(
        record_type=RECORD_TYPE,
        record_id=str(revision_id),
        title=f"master batch record {view.title} — {view.recipe.name}",
        content=content(view),
        meanings={
            Meaning.AUTHORED: frozenset(AUTHORS),
            Meaning.APPROVED: frozenset({Role.QA}),
        },
        rules=_rules(revision_id),
        after_signing=_after_signing,
        changes_page=True,
    )


# ---------------------------------------------------------------- compare


@dataclass(frozen=True)
class Change:
    key: str
    change: str  # "added" | "removed" | "changed"
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def fields(self) -> list[str]:
        if self.before is None or self.after is None:
            return []
        return sorted(k for k in self.after if self.before.get(k) != self.after.get(k))


@dataclass(frozen=True)
class Comparison:
    old: RevisionView
    new: RevisionView
    header: list[str]
    bom: list[Change]
    steps: list[Change]

    @property
    def identical(self) -> bool:
        return not (self.header or self.bom or self.steps)


def _diff(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[Change]:
    changes = []
    for key in list(old) + [k for k in new if k not in old]:
        if key not in new:
            changes.append(Change(key, "removed", old[key], None))
        elif key not in old:
            changes.append(Change(key, "added", None, new[key]))
        elif old[key] != new[key]:
            changes.append(Change(key, "changed", old[key], new[key]))
    return changes


def compare(session: Session, *, old_id: int, new_id: int) -> Comparison:
    """BOM lines (by material) and steps (by step number) added, removed and changed.

    Raises:
        NotFound: either revision. Rejected: revisions of different recipes.
    """
    old, new = load_revision(session, old_id), load_revision(session, new_id)
    if old.recipe.id != new.recipe.id:
        raise Rejected([Violation("compare.recipes", "Compare two revisions of the same recipe.")])
    a, b = content(old), content(new)
    header = [
        k
        for k in ("batch_size", "batch_unit", "drawing_revision", "sop_codes", "change_note")
        if a[k] != b[k]
    ]
    return Comparison(
        old,
        new,
        header,
        _diff({x["material"]: x for x in a["bom"]}, {x["material"]: x for x in b["bom"]}),
        _diff({x["code"]: x for x in a["steps"]}, {x["code"]: x for x in b["steps"]}),
    )
