"""The ordered steps of a draft revision, with their limits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from app.models import (
    BomLine,
    EquipmentKind,
    RecipeRevision,
    RecipeStep,
    StepKind,
    StepLimit,
)
from app.services.core.actors import Actor
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, Rejected, Violation, require
from app.services.core.text import NOTE_LENGTH, max_length, read_text
from app.services.mbr.drafts import audit_revision, editable_draft, read_optional_decimal


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


def _step_problems(
    session: Session, revision: RecipeRevision, new: StepIn, step_id: int | None
) -> tuple[list[Violation], list[tuple[str, str, Decimal | None, Decimal | None]]]:
    problems: list[Violation] = []
    code = read_text(
        new.code,
        field="code",
        label="step number",
        problems=problems,
        limit=max_length(RecipeStep, "code"),
        code=True,
    )
    if not new.code.strip():
        problems.append(Violation("code.empty", "Enter the step number (e.g. 10).", "code"))
    elif code:
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
    read_text(
        new.title,
        field="title",
        label="title",
        problems=problems,
        limit=max_length(RecipeStep, "title"),
        required=True,
        empty="Give the step a title.",
    )
    read_text(
        new.instruction,
        field="instruction",
        label="instruction",
        problems=problems,
        limit=NOTE_LENGTH,
        multiline=True,
    )
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
        from app.services.masterdata.training import get_curriculum

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
        read_text(
            li.name,
            field=field_,
            label=f"limit {i} name",
            problems=problems,
            limit=max_length(StepLimit, "name"),
        )
        read_text(
            li.unit,
            field=field_,
            label=f"limit {i} unit",
            problems=problems,
            limit=max_length(StepLimit, "unit"),
            code=True,
        )
        if not li.name.strip():
            problems.append(Violation(f"{field_}.name", f"Limit {i}: name the value.", field_))
        low = read_optional_decimal(li.low, field=field_, label=f"limit {i} low", problems=problems)
        high = read_optional_decimal(
            li.high, field=field_, label=f"limit {i} high", problems=problems
        )
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
    clock: Clock,
) -> RecipeStep:
    """Append a step to a draft.

    Raises:
        PermissionDenied, Rejected (frozen revision or bad fields, each beside its field).
    """
    revision = editable_draft(session, actor, revision_id, "author master batch records")
    problems, limits = _step_problems(session, revision, new, None)
    require(problems)
    last = session.exec(
        select(RecipeStep.position)
        .where(RecipeStep.revision_id == revision.id)
        .order_by(col(RecipeStep.position).desc())
    ).first()
    step = RecipeStep(revision_id=revision.id, position=(last or 0) + 1)  # type: ignore[arg-type, call-arg]
    _apply_step(step, new)
    session.add(step)
    session.flush()
    _write_limits(session, step, limits)
    audit_revision(
        session, actor, revision, "step_added", after=_step_values(step, limits), clock=clock
    )
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
    revision = editable_draft(session, actor, step.revision_id, "author master batch records")
    return step, revision


def update_step(
    session: Session, *, actor: Actor, step_id: int, new: StepIn, clock: Clock
) -> RecipeStep:
    """Change a step of a draft. Raises NotFound, PermissionDenied, Rejected."""
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
    audit_revision(
        session,
        actor,
        revision,
        "step_changed",
        before=before,
        after=_step_values(step, limits),
        clock=clock,
    )
    return step


def move_step(
    session: Session, *, actor: Actor, step_id: int, offset: int, clock: Clock
) -> RecipeStep:
    """Move a step of a draft up (-1) or down (+1). Raises NotFound, PermissionDenied, Rejected."""
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
    audit_revision(
        session,
        actor,
        revision,
        "step_moved",
        before={"code": step.code, "position": index + 1},
        after={"code": step.code, "position": target + 1},
        clock=clock,
    )
    return step


def remove_step(session: Session, *, actor: Actor, step_id: int, clock: Clock) -> None:
    """Remove a step from a draft (its BOM lines lose their step). Raises NotFound,
    PermissionDenied, Rejected."""
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
    audit_revision(session, actor, revision, "step_removed", before=before, clock=clock)
