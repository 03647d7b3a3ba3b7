"""The executed record on the floor (DESIGN §4-6): a supervisor starts, holds and resumes a batch
with a reason; its steps are performed, and verified where the master record asks, in order, each
by its own signature through the signing service.

Starting a batch makes one `StepExecution` per step of its frozen revision. Every change of a
batch's status takes the batch row lock (the one the issue gate and cancelling take), so a start,
a hold and a cancellation of one batch happen one after the other. A step's signature takes the
step's row lock and checks its state again, so two people signing one step cannot both win.

Steps whose kind captures something are signed only once that is captured (`capture`): an
equipment check once its equipment is recorded. The capture screens of weighings, values and
serials come with the floor (issue 13); until then those steps refuse the signature with a
sentence rather than let a bare signature stand for a weighing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, col, select

from app.models import (
    Batch,
    BatchStatus,
    EntryKind,
    EntrySource,
    Lot,
    Meaning,
    RecipeStep,
    Role,
    Signature,
    StepEntry,
    StepExecution,
    StepKind,
    StepState,
    User,
)
from app.services.core import audit
from app.services.core.actors import require_role
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, Violation, require
from app.services.core.text import read_reason
from app.services.esign import signable
from app.services.execution import gates
from app.services.execution.batches import RECORD_TYPE as BATCH_RECORD
from app.services.execution.batches import get_batch, lock_batch
from app.services.masterdata.training import role_for_step, step_qualification

RECORD_TYPE = "step_execution"
STEERERS = (Role.SUPERVISOR,)  # who starts, holds and resumes batches
VERIFIERS = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.QA})
# Kinds signed on their own (the signature is the record); the others capture entries first.
SIGNED_ALONE = frozenset({StepKind.INSTRUCTION, StepKind.VERIFICATION, StepKind.QA_HOLD})
# What each batch status change may start from, and where it goes.
MOVES = {
    "started": (BatchStatus.PLANNED, BatchStatus.IN_PROGRESS),
    "held": (BatchStatus.IN_PROGRESS, BatchStatus.ON_HOLD),
    "resumed": (BatchStatus.ON_HOLD, BatchStatus.IN_PROGRESS),
}


def may_steer(user: User) -> bool:
    """Whether `user` may start, hold and resume batches (the rule `move_batch` enforces)."""
    return user.active and user.has_role(*STEERERS)


@dataclass(frozen=True)
class StepView:
    execution: StepExecution
    step: RecipeStep
    performer: str | None
    verifier: str | None
    manual: bool = False  # something on it was typed by hand, not scanned or captured

    @property
    def state(self) -> StepState:
        return StepState(self.execution.status)

    @property
    def needs_verification(self) -> bool:
        """A second person verifies it: the master record asks, or something on it was typed
        by hand (a manual entry is checked by a second person: Annex 11 §6, 211.101(d))."""
        return self.step.verification_required or self.manual

    @property
    def finished(self) -> bool:
        """Nothing left to do on this step: performed, and verified where that is needed."""
        if self.needs_verification:
            return self.state == StepState.VERIFIED
        return self.state != StepState.OPEN


def move_batch(
    session: Session, *, actor: User, batch_no: str, move: str, reason: str, clock: Clock
) -> Batch:
    """Start a planned batch (its steps are laid out), hold a running one, or resume a held one;
    a hold and a resume need a reason.

    Raises:
        PermissionDenied: not a supervisor. NotFound: no such batch. GateViolation: the batch is
        not in the status the move starts from, or no reason.
    """
    require_role(actor, *STEERERS, action="start, hold or resume batches")
    start, to = MOVES[move]
    batch = lock_batch(session, get_batch(session, batch_no))
    problems: list[Violation] = []
    why = read_reason(reason, problems, required=move != "started")
    status = BatchStatus(batch.status)
    if status != start:
        problems.insert(
            0,
            Violation(
                f"batch.not_{start.value}",
                f"Batch {batch.batch_no} is {status.label.lower()}; only a batch that is "
                f"{start.label.lower()} can be {move}.",
            ),
        )
    require(problems, gate=True)
    if move == "started":
        _lay_out_steps(session, batch)
    batch.status = to.value
    session.add(batch)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"batch.{move}",
        entity_type=BATCH_RECORD,
        entity_id=batch.id,
        before={"status": status.value},
        after={"status": batch.status, "batch_no": batch.batch_no},
        reason=why or None,
        clock=clock,
    )
    return batch


def _lay_out_steps(session: Session, batch: Batch) -> None:
    for step in session.exec(
        select(RecipeStep)
        .where(RecipeStep.revision_id == batch.revision_id)
        .order_by(col(RecipeStep.position))
    ):
        session.add(StepExecution(batch_id=batch.id, step_id=step.id, position=step.position))  # type: ignore[arg-type]


def _step_rows(
    session: Session, batch_ids: list[int]
) -> list[tuple[StepExecution, RecipeStep, bool]]:
    """Each step of the batches with whether anything on it was typed by hand (one query;
    asked even for no batch, so a page's statement count is the same whatever is running)."""
    manual = (
        select(StepEntry.id)
        .where(
            StepEntry.step_execution_id == StepExecution.id,
            StepEntry.source == EntrySource.MANUAL.value,
        )
        .exists()
    )
    return list(
        session.exec(
            select(StepExecution, RecipeStep, manual)
            .join(RecipeStep, col(RecipeStep.id) == StepExecution.step_id)
            .where(col(StepExecution.batch_id).in_(batch_ids))
            .order_by(col(StepExecution.batch_id), col(StepExecution.position))
        ).all()
    )


def steps(session: Session, batch: Batch) -> list[StepView]:
    """The batch's steps in order with who performed and verified each (two queries)."""
    rows = _step_rows(session, [batch.id])  # type: ignore[list-item]
    people = {e.performed_by_id for e, _, _ in rows} | {e.verified_by_id for e, _, _ in rows}
    people.discard(None)
    names = (
        dict(
            session.exec(
                select(col(User.id), col(User.full_name)).where(col(User.id).in_(people))
            ).all()
        )
        if people
        else {}
    )
    return [
        StepView(e, s, names.get(e.performed_by_id), names.get(e.verified_by_id), bool(m))
        for e, s, m in rows
    ]


def next_step(views: list[StepView]) -> StepView | None:
    """The first step not finished (the one the floor works on), or None when all are."""
    return next((v for v in views if not v.finished), None)


def sequence_problems(views: list[StepView], execution: StepExecution) -> list[Violation]:
    """The sequence gate (`gates.check_sequence`): every step before this one is finished."""
    view = next(v for v in views if v.execution.id == execution.id)
    done = {v.step.code for v in views if v.finished}
    return gates.check_sequence([v.step for v in views], view.step, done).violations


def not_running(batch: Batch, what: str) -> list[Violation]:
    """Work on a batch's steps happens only while it is in progress (not planned, on hold or
    closed): `what` says the work, "its steps are signed"."""
    if batch.status == BatchStatus.IN_PROGRESS:
        return []
    status = BatchStatus(batch.status).label.lower()
    return [
        Violation(
            "batch.not_running",
            f"Batch {batch.batch_no} is {status}: {what} only while it is in progress.",
        )
    ]


def get_step(session: Session, batch: Batch, code: str) -> StepView:
    """Raises NotFound."""
    return find_step(steps(session, batch), batch, code)


def find_step(views: list[StepView], batch: Batch, code: str) -> StepView:
    """The step `code` among the batch's `views` already read. Raises NotFound."""
    for view in views:
        if view.step.code == code.strip():
            return view
    raise NotFound(f"Batch {batch.batch_no} has no step {code.strip()!r}.")


def my_work(session: Session) -> list[tuple[Batch, StepView | None]]:
    """Batches on the floor (in progress or on hold) and the step waiting on each, oldest
    first, for the floor's homes: two queries however many batches and steps."""
    running = list(
        session.exec(
            select(Batch)
            .where(
                col(Batch.status).in_([BatchStatus.IN_PROGRESS.value, BatchStatus.ON_HOLD.value])
            )
            .order_by(col(Batch.id))
        )
    )
    by_batch: dict[int, list[StepView]] = {b.id: [] for b in running}  # type: ignore[misc]
    for execution, step, manual in _step_rows(session, list(by_batch)):
        by_batch[execution.batch_id].append(StepView(execution, step, None, None, bool(manual)))
    return [(batch, next_step(by_batch[batch.id])) for batch in running]  # type: ignore[index]


# --- Signing a step ----------------------------------------------------------------------------


def _step_rules(execution_id: int) -> signable.Rules:
    def rules(session: Session, signer: User, meaning: Meaning, clock: Clock) -> list[Violation]:
        execution = session.get(StepExecution, execution_id)
        assert execution is not None
        batch = session.get(Batch, execution.batch_id)
        assert batch is not None
        views = steps(session, batch)
        view = next(v for v in views if v.execution.id == execution_id)
        step = view.step
        problems: list[Violation] = []
        problems += not_running(batch, "its steps are signed")
        if meaning == Meaning.PERFORMED:
            if view.state != StepState.OPEN:
                problems.append(
                    Violation("step.done", f"Step {step.code} is already {view.state.value}.")
                )
            if StepKind(step.kind) == StepKind.EQUIPMENT_CHECK:
                if not _captured(session, execution_id, EntryKind.EQUIPMENT):
                    problems.append(
                        Violation(
                            "step.no_equipment",
                            f"Step {step.code}: scan the {step.equipment_kind or 'equipment'} "
                            "used first; the signature confirms what was recorded.",
                        )
                    )
            elif StepKind(step.kind) == StepKind.WEIGH:
                problems += weighed_short(session, batch, step, execution_id)
            elif StepKind(step.kind) not in SIGNED_ALONE:
                problems.append(
                    Violation(
                        "step.capture",
                        f"Step {step.code} ({StepKind(step.kind).label}) records what it "
                        "captures on its screen before it is signed, and that screen is not "
                        "built yet.",
                    )
                )
            problems += sequence_problems(views, execution)
            problems += step_qualification(session, user=signer, step=step, clock=clock)
        elif meaning == Meaning.VERIFIED:
            if not view.needs_verification:
                problems.append(
                    Violation(
                        "step.no_verification",
                        f"The master record does not ask for step {step.code} to be verified, "
                        "and nothing on it was typed by hand.",
                    )
                )
            elif view.state != StepState.PERFORMED:
                problems.append(
                    Violation(
                        "step.not_performed",
                        f"Step {step.code} is {view.state.value}: it is verified once performed.",
                    )
                )
            if execution.performed_by_id == signer.id:
                problems.append(
                    Violation(
                        "step.own_work",
                        f"{signer.full_name} performed step {step.code}; another person verifies "
                        "it (nobody verifies their own work).",
                    )
                )
        return problems

    return rules


def entries(session: Session, execution_id: int) -> list[StepEntry]:
    """What the step captured, in order (superseded entries too: the record keeps both)."""
    return list(
        session.exec(
            select(StepEntry)
            .where(StepEntry.step_execution_id == execution_id)
            .order_by(col(StepEntry.id))
        )
    )


def current(found: list[StepEntry]) -> list[StepEntry]:
    """The entries no later entry superseded (a correction keeps both; this is what counts)."""
    superseded = {e.supersedes_id for e in found if e.supersedes_id is not None}
    return [e for e in found if e.id not in superseded]


def weighed_short(
    session: Session, batch: Batch, step: RecipeStep, execution_id: int
) -> list[Violation]:
    """The amount gate at the end of a weigh step: each material's total inside its band."""
    kept = [e for e in current(entries(session, execution_id)) if e.kind == EntryKind.WEIGHT]
    material_of = dict(
        session.exec(
            select(col(Lot.lot_code), col(Lot.material_id)).where(
                col(Lot.lot_code).in_({e.subject for e in kept})
            )
        ).all()
    )
    problems: list[Violation] = []
    for line, material in gates.step_lines(step, gates.load_batch_context(session, batch).lines):
        weighed = [
            gates.Amount(Decimal(e.value), e.unit)
            for e in kept
            if material_of.get(e.subject) == material.id
        ]
        problems += gates.check_amount(line, material, weighed, None, last=True).violations
    return problems


def _captured(session: Session, execution_id: int, kind: EntryKind) -> bool:
    """Whether the step holds an entry of `kind` that no later entry superseded."""
    superseded = select(StepEntry.supersedes_id).where(col(StepEntry.supersedes_id).is_not(None))
    return (
        session.exec(
            select(StepEntry.id).where(
                StepEntry.step_execution_id == execution_id,
                StepEntry.kind == kind.value,
                col(StepEntry.id).not_in(superseded),
            )
        ).first()
        is not None
    )


def _after_step_signed(session: Session, signature: Signature, clock: Clock) -> None:
    execution = session.get(StepExecution, int(signature.record_id))
    assert execution is not None
    meaning = Meaning(signature.meaning)
    before = execution.status
    if meaning == Meaning.PERFORMED:
        execution.status = StepState.PERFORMED.value
        execution.performed_at, execution.performed_by_id = signature.signed_at, signature.signer_id
    else:
        execution.status = StepState.VERIFIED.value
        execution.verified_at, execution.verified_by_id = signature.signed_at, signature.signer_id
    session.add(execution)
    session.flush()
    audit.record(
        session,
        actor=session.get(User, signature.signer_id),
        action=f"step.{meaning.value}",
        entity_type=RECORD_TYPE,
        entity_id=execution.id,
        before={"status": before},
        after={"status": execution.status, "batch_no": signature.batch_no,
               "signature_id": signature.id},
        clock=clock,
    )  # fmt: skip


def _lock_step(session: Session, execution_id: int) -> StepExecution:
    locked = session.exec(
        select(StepExecution).where(StepExecution.id == execution_id).with_for_update()
    ).one()
    session.refresh(locked)
    return locked


@signable.register(RECORD_TYPE)
def _load_signable(session: Session, record_id: str) -> signable.Signable:
    execution = session.get(StepExecution, int(record_id)) if record_id.isdigit() else None
    if execution is None:
        raise NotFound(f"There is no step record {record_id!r}.")
    step = session.get(RecipeStep, execution.step_id)
    batch = session.get(Batch, execution.batch_id)
    assert step is not None
    assert batch is not None
    return signable.Signable(
        record_type=RECORD_TYPE,
        record_id=str(execution.id),
        title=f"step {step.code} “{step.title}” of batch {batch.batch_no}",
        content={
            "batch_no": batch.batch_no,
            "step": step.code,
            "kind": step.kind,
            "title": step.title,
            "instruction": step.instruction,
        },
        state={"status": execution.status, "batch_status": batch.status},
        meanings={
            Meaning.PERFORMED: frozenset({role_for_step(step)}),
            Meaning.VERIFIED: VERIFIERS,
        },
        batch_no=batch.batch_no,
        rules=_step_rules(execution.id),  # type: ignore[arg-type]
        lock=lambda s: _lock_step(s, execution.id),  # type: ignore[arg-type]
        after_signing=_after_step_signed,
        changes_page=True,
    )
