"""What a step captures, gate by gate (DESIGN §5): each capture is allowed only when every gate
passes, and is kept as a `StepEntry` with the evidence the gates relied on, so the executed record
shows why it was allowed. This module starts with the equipment a step uses (story 1 step 5: an
overdue blender is refused, a current one recorded); weighings, lots, values and serials follow on
the same pattern."""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal

from sqlmodel import Session, col, select

from app.models import (
    Batch,
    EntryKind,
    EntrySource,
    Recipe,
    StepEntry,
    StepExecution,
    StepKind,
    StepState,
    User,
)
from app.services.core import audit
from app.services.core.clock import Clock
from app.services.core.errors import Violation, require
from app.services.core.idempotency import first_result, remember
from app.services.core.quantities import parse_quantity
from app.services.core.text import read_reason
from app.services.execution import gates
from app.services.execution.batches import get_batch, lock_batch
from app.services.execution.record import (
    RECORD_TYPE,
    StepView,
    current,
    entries,
    find_step,
    not_running,
    sequence_problems,
    steps,
)
from app.services.masterdata.training import step_qualification
from app.services.warehouse import ledger


def _at_step(session: Session, batch_no: str, code: str) -> tuple[Batch, list[StepView], StepView]:
    """The batch (its row locked), its steps and the step `code` among them, read once."""
    batch = lock_batch(session, get_batch(session, batch_no))
    views = steps(session, batch)
    return batch, views, find_step(views, batch, code)


def _step_problems(
    session: Session, batch: Batch, view: StepView, views: list[StepView], actor: User, clock: Clock
) -> list[Violation]:
    """Why nothing may be captured on this step now: the batch, the step's state, the order of
    work and the person."""
    problems: list[Violation] = not_running(batch, "its steps record work")
    if view.state != StepState.OPEN:
        problems.append(
            Violation("step.done", f"Step {view.step.code} is already {view.state.value}.")
        )
    problems += sequence_problems(views, view.execution)
    problems += step_qualification(session, user=actor, step=view.step, clock=clock)
    return problems


def last_use(session: Session, code: str, batch: Batch) -> gates.EquipmentUse | None:
    """The equipment's last run in another batch, as the batch records show it (one query)."""
    row = session.exec(
        select(StepEntry, Batch, Recipe)
        .join(StepExecution, col(StepExecution.id) == StepEntry.step_execution_id)
        .join(Batch, col(Batch.id) == StepExecution.batch_id)
        .join(Recipe, col(Recipe.id) == Batch.recipe_id)
        .where(
            StepEntry.kind == EntryKind.EQUIPMENT.value,
            StepEntry.subject == code.strip().upper(),
            Batch.id != batch.id,
        )
        .order_by(col(StepEntry.recorded_at).desc(), col(StepEntry.id).desc())
    ).first()
    if row is None:
        return None
    entry, used_in, recipe = row
    return gates.EquipmentUse(recipe.code, used_in.batch_no, entry.recorded_at)


def record_equipment(
    session: Session,
    *,
    actor: User,
    batch_no: str,
    code: str,
    scanned: str,
    clock: Clock,
    key: str | None = None,
) -> StepEntry:
    """The equipment scanned at a step that names one: of the kind it names, in service,
    calibrated, clean, cleared of the last product (and of its allergens). Kept with the
    evidence each gate relied on.

    Raises:
        NotFound: no such batch or step. Rejected: nothing scanned or no such equipment (beside
        the equipment field). GateViolation: every reason the step or the equipment is refused.
    """
    earlier = _sent_before(session, key)
    if earlier is not None:
        return earlier
    batch, views, view = _at_step(session, batch_no, code)
    step = view.step
    problems = _step_problems(session, batch, view, views, actor, clock)
    if not step.equipment_kind:
        problems.append(
            Violation("step.no_equipment", f"Step {step.code} names no equipment to scan.")
        )
    require(problems, gate=True)
    context = gates.load_batch_context(session, batch)
    used = last_use(session, scanned, batch)
    found = gates.load_equipment(session, scanned, last_use=used)
    evidence = gates.GateResult.all(
        gates.check_equipment(
            found.equipment, found.calibration, found.cleaning, step=step,
            product=context.product, clock=clock, cleaned_by=found.cleaned_by, last_use=used,
        ),
        gates.check_allergen_changeover(
            found.equipment, found.cleaning, product=context.product,
            product_allergens=context.product_allergens,
            allergens_by_product=found.allergens_by_product, verification=found.verification,
            clock=clock, last_use=used,
        ),
    ).require()  # fmt: skip
    entry = _entry(actor, view, EntryKind.EQUIPMENT, found.equipment.code, evidence, clock)
    return _keep(
        session, entry, actor=actor, batch=batch, view=view, action="step.equipment_recorded",
        facts={"equipment": entry.subject}, clock=clock, key=key,
    )  # fmt: skip


def record_lot(
    session: Session,
    *,
    actor: User,
    batch_no: str,
    code: str,
    scanned: str,
    clock: Clock,
    key: str | None = None,
) -> StepEntry:
    """The lot scanned at a step that consumes material (story 1 step 4): of a material the step
    takes, released, its release standing on a QC decision, not expired at the plant's date.
    Kept with the evidence (status and expiry at use, the release signature).

    Raises:
        NotFound: no such batch or step. Rejected: nothing scanned, not readable or no such lot
        (beside the lot field). GateViolation: every reason the step or the lot is refused.
    """
    earlier = _sent_before(session, key)
    if earlier is not None:
        return earlier
    batch, views, view = _at_step(session, batch_no, code)
    step = view.step
    context = gates.load_batch_context(session, batch)
    problems = _step_problems(session, batch, view, views, actor, clock)
    if not gates.step_lines(step, context.lines):
        problems.append(
            Violation("step.no_material", f"Step {step.code} consumes no material to scan.")
        )
    require(problems, gate=True)
    found = gates.load_lot(session, scanned)
    evidence = gates.check_scanned_lot(
        found.lot, found.material, step=step, lines=context.lines, batch_no=batch.batch_no,
        today=clock.today(), unfounded=found.unfounded, release=found.release, clock=clock,
    ).require()  # fmt: skip
    entry = _entry(actor, view, EntryKind.LOT, found.lot.lot_code, evidence, clock)
    return _keep(
        session, entry, actor=actor, batch=batch, view=view, action="step.lot_recorded",
        facts={"lot": entry.subject}, clock=clock, key=key,
    )  # fmt: skip


def record_weight(
    session: Session,
    *,
    actor: User,
    batch_no: str,
    code: str,
    quantity: str,
    unit: str,
    reason: str,
    clock: Clock,
    key: str | None = None,
) -> StepEntry:
    """A weighing typed by hand at a weigh step, of the lot last scanned there (one entry per
    container or addition): the reason it was not captured from the scale is required and the
    entry is marked manual for good. The amount gate counts it with the earlier ones of the line:
    never past the top of the tolerance band.

    Raises:
        NotFound: no such batch or step. GateViolation: the step, no lot scanned yet, no reason,
        a nonsense amount, a unit the line does not use, or past the band (every reason at once).
    """
    earlier = _sent_before(session, key)
    if earlier is not None:
        return earlier
    batch, views, view = _at_step(session, batch_no, code)
    step = view.step
    context = gates.load_batch_context(session, batch)
    problems = _step_problems(session, batch, view, views, actor, clock)
    why = read_reason(
        reason, problems, empty="Say why the weight is typed, not captured from the scale."
    )
    amount = parse_quantity(quantity, problems)
    kept = current(entries(session, view.execution.id))  # type: ignore[arg-type]
    lots = [e for e in kept if e.kind == EntryKind.LOT.value]
    if StepKind(step.kind) != StepKind.WEIGH:
        problems.append(Violation("step.not_weigh", f"Step {step.code} weighs nothing."))
    elif not lots:
        problems.append(
            Violation("weight.no_lot", "Scan the lot you are weighing from first.", "lot")
        )
    require(problems, gate=True)
    assert amount is not None
    lot = ledger.get_lot(session, lots[-1].subject)
    line, material = next(
        (line, m) for line, m in gates.step_lines(step, context.lines) if m.id == lot.material_id
    )
    weighed = [
        gates.Amount(Decimal(e.value), e.unit)
        for e in kept
        if e.kind == EntryKind.WEIGHT.value and e.subject in {x.subject for x in lots}
    ]
    evidence = gates.check_amount(
        line, material, weighed, gates.Amount(amount, unit.strip() or line.unit)
    ).require()
    entry = _entry(
        actor, view, EntryKind.WEIGHT, lot.lot_code, evidence, clock, value=str(amount),
        unit=unit.strip() or line.unit, source=EntrySource.MANUAL, within_limits=True,
        reason=why,
    )  # fmt: skip
    return _keep(
        session, entry, actor=actor, batch=batch, view=view, action="step.weight_recorded",
        facts={"lot": lot.lot_code, "quantity": entry.value, "unit": entry.unit,
               "source": entry.source},
        clock=clock, key=key,
    )  # fmt: skip


def _sent_before(session: Session, key: str | None) -> StepEntry | None:
    """What this form recorded the first time it was sent (a double tap, a retry after a
    dropped connection), so it records once. `key` None: not a form (the services' own
    callers); a form without its key is stale (Rejected)."""
    return first_result(session, key, StepEntry) if key is not None else None


def _entry(
    actor: User,
    view: StepView,
    kind: EntryKind,
    subject: str,
    evidence: list[gates.Evidence],
    clock: Clock,
    *,
    value: str = "",
    unit: str = "",
    source: EntrySource = EntrySource.SCANNED,
    within_limits: bool | None = None,
    reason: str | None = None,
) -> StepEntry:
    """A new entry of the step with the gates' evidence."""
    return StepEntry(
        step_execution_id=view.execution.id,  # type: ignore[arg-type]
        kind=kind.value,
        subject=subject,
        value=value,
        unit=unit,
        source=source.value,
        within_limits=within_limits,
        reason=reason,
        evidence=json.dumps([asdict(e) for e in evidence], sort_keys=True),
        recorded_at=clock.now(),
        recorded_by_id=actor.id,  # type: ignore[arg-type]
    )


def _keep(
    session: Session,
    entry: StepEntry,
    *,
    actor: User,
    batch: Batch,
    view: StepView,
    action: str,
    facts: dict[str, object],
    clock: Clock,
    key: str | None,
) -> StepEntry:
    """The entry, the form key it answers and its audit event, in this transaction."""
    session.add(entry)
    session.flush()
    remember(
        session, key=key or "", form="step_entry", user=actor, result=f"step_entry:{entry.id}",
        clock=clock,
    )  # fmt: skip
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=RECORD_TYPE,
        entity_id=view.execution.id,
        after={"batch_no": batch.batch_no, "step": view.step.code, **facts, "entry_id": entry.id},
        reason=entry.reason,
        clock=clock,
    )
    return entry


def evidence_of(entry: StepEntry) -> list[dict[str, object]]:
    """The gates' evidence kept with an entry, as stored."""
    return list(json.loads(entry.evidence))
