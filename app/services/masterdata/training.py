"""Training: curricula, dated training records, and the one question the floor asks —
"is this person qualified for this step right now, and if not, why not?"."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from app.models import (
    Curriculum,
    DocumentRevision,
    RecipeStep,
    Role,
    StepKind,
    TrainingRecord,
    User,
)
from app.services.core import audit
from app.services.core.actors import Actor, require_role
from app.services.core.clock import Clock
from app.services.core.dates import too_far_ahead
from app.services.core.errors import NotFound, Violation, require
from app.services.core.quantities import read_whole_number, record_id
from app.services.core.text import NOTE_LENGTH, max_length, read_reason, read_text
from app.services.masterdata import documents

MAX_VALIDITY_DAYS = 20 * 366
CURRICULUM_KINDS = {"sop": "SOP", "mbr": "Master batch record"}
# Who sees everyone's training (the matrix and each person's records); anyone sees their own.
VIEWERS = (Role.ADMIN, Role.QA, Role.SUPERVISOR)
# Training that expires within this many days is due now: the retraining has to be planned.
DUE_WITHIN_DAYS = 30


def may_see_matrix(user: User) -> bool:
    """Whether `user` may see the training matrix (everyone against every curriculum)."""
    return user.active and user.has_role(*VIEWERS)


def may_see_records(viewer: User, person_id: int) -> bool:
    """Whether `viewer` may see the training records of person `person_id`: their own, or
    anyone's for those who see the matrix."""
    return viewer.active and (viewer.id == person_id or viewer.has_role(*VIEWERS))


def get_curriculum(session: Session, code: str) -> Curriculum | None:
    return session.exec(select(Curriculum).where(Curriculum.code == code.strip().upper())).first()


def list_curricula(session: Session) -> list[Curriculum]:
    return list(session.exec(select(Curriculum).order_by(Curriculum.code)))


def create_curriculum(
    session: Session,
    *,
    actor: Actor,
    code: str,
    title: str,
    kind: str,
    validity_days: int | str,
    clock: Clock,
) -> Curriculum:
    """A curriculum people are trained on: an SOP code or a product's MBR code.

    Raises:
        PermissionDenied: not admin or QA. Rejected: bad or duplicate fields.
    """
    require_role(actor, Role.ADMIN, Role.QA, action="define training curricula")
    now = clock.now()
    problems: list[Violation] = []
    code = read_text(
        code,
        field="code",
        label="SOP or product code",
        problems=problems,
        limit=max_length(Curriculum, "code"),
        required=True,
        code=True,
        empty="Enter the SOP or product code.",
    ).upper()
    if code and get_curriculum(session, code) is not None:
        problems.append(Violation("code.taken", f"Curriculum {code} already exists.", "code"))
    title = read_text(
        title,
        field="title",
        label="title",
        problems=problems,
        limit=max_length(Curriculum, "title"),
        required=True,
        empty="Enter a title.",
    )
    if kind not in CURRICULUM_KINDS:
        problems.append(Violation("kind.unknown", "Choose SOP or master batch record.", "kind"))
    validity = read_whole_number(
        str(validity_days),
        field="validity_days",
        label="validity in days",
        problems=problems,
        high=MAX_VALIDITY_DAYS,
    )
    require(problems)
    assert validity is not None
    curriculum = Curriculum(
        code=code, title=title, kind=kind, validity_days=validity, created_at=now
    )
    session.add(curriculum)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="curriculum.created",
        entity_type="curriculum",
        entity_id=curriculum.id,
        after={
            "code": code,
            "title": curriculum.title,
            "kind": kind,
            "validity_days": validity_days,
        },
        clock=clock,
    )
    return curriculum


def record_training(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    curriculum_code: str,
    trained_on: date,
    expires_on: date | None = None,
    note: str | None = None,
    reason: str | None = None,
    clock: Clock,
) -> TrainingRecord:
    """Record that a person was trained. Expiry defaults to the curriculum's validity.

    Records are never edited: a later record for the same person and curriculum stands beside
    the earlier ones, and while an earlier one is still valid it needs a reason. Nobody records
    their own training (the recorder is a second person).

    Raises:
        PermissionDenied: not admin or QA. NotFound: no such person. Rejected: own training,
        unknown curriculum, training in the future, expiry not after training, no reason for a
        record beside a valid one.
    """
    require_role(actor, Role.ADMIN, Role.QA, action="record training")
    now = clock.now()
    person = session.get(User, user_id) if record_id(user_id) is not None else None
    if person is None:
        raise NotFound(f"There is no user with id {user_id}.")
    curriculum = get_curriculum(session, curriculum_code)
    problems: list[Violation] = []
    note = read_text(
        note, field="note", label="note", problems=problems, limit=NOTE_LENGTH, multiline=True
    )
    too_far_ahead(
        expires_on, today=clock.today(), field="expires_on", label="expiry date", problems=problems
    )
    if isinstance(actor, User) and actor.id == person.id:
        problems.append(
            Violation(
                "trainee.self",
                "You cannot record your own training; another admin or QA person records it.",
                "user_id",
            )
        )
    if curriculum is None:
        problems.append(
            Violation(
                "curriculum.unknown", f"There is no curriculum {curriculum_code!r}.", "curriculum"
            )
        )
    else:
        reason = _reason_beside_a_valid_record(session, person, curriculum, reason, clock, problems)
    if trained_on > clock.today():
        problems.append(
            Violation("trained_on.future", "Training cannot be recorded ahead.", "trained_on")
        )
    require(problems)
    assert curriculum is not None
    expires_on = expires_on or trained_on + timedelta(days=curriculum.validity_days)
    require(
        [Violation("expires_on.early", "Expiry must be after the training date.", "expires_on")]
        if expires_on <= trained_on
        else []
    )
    record = TrainingRecord(
        user_id=user_id,
        curriculum_id=curriculum.id,  # type: ignore[arg-type]
        trained_on=trained_on,
        expires_on=expires_on,
        recorded_by_id=actor.id if isinstance(actor, User) else None,
        recorded_at=now,
        note=note or None,
        reason=reason or None,
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="training.recorded",
        entity_type="user",
        entity_id=user_id,
        after={
            "curriculum": curriculum.code,
            "trained_on": trained_on,
            "expires_on": expires_on,
            "note": record.note,
        },
        reason=record.reason,
        clock=clock,
    )
    return record


def _reason_beside_a_valid_record(
    session: Session,
    person: User,
    curriculum: Curriculum,
    raw: str | None,
    clock: Clock,
    problems: list[Violation],
) -> str:
    """The reason for a new record while an earlier one is still valid ("" when none is
    valid: then no reason is asked for, and one given is not kept)."""
    state = training_state(session, user=person, code=curriculum.code, today=clock.today())
    if state is None or not state.current or state.latest is None:
        return ""
    return read_reason(
        raw,
        problems,
        empty=(
            f"{person.full_name} is trained on {curriculum.code} until "
            f"{state.latest.expires_on}; a new record does not replace that one. "
            "Give the reason for it."
        ),
    )


def predates(record: TrainingRecord, revision: DocumentRevision) -> bool:
    """Whether the training was on a revision before `revision`: trained before the plant's
    date it came into force, or recorded before it did (trained that morning, on the old one).
    A revision in force before revision control has no date and asks nobody to retrain."""
    if revision.effective_at is None or revision.effective_on is None:
        return False
    return record.trained_on < revision.effective_on or record.recorded_at < revision.effective_at


@dataclass(frozen=True)
class TrainingState:
    curriculum: Curriculum
    latest: TrainingRecord | None
    today: date
    # The SOP's revision in force (SOP curricula with a document only).
    revision: DocumentRevision | None = None

    @property
    def retrain_on(self) -> DocumentRevision | None:
        """The revision the person must retrain on: their training predates it."""
        if self.latest is None or self.revision is None:
            return None
        return self.revision if predates(self.latest, self.revision) else None

    @property
    def expired(self) -> bool:
        return self.latest is not None and self.latest.expires_on < self.today

    @property
    def current(self) -> bool:
        return self.latest is not None and not self.expired and self.retrain_on is None

    @property
    def due(self) -> bool:
        """Trained once and due again: expired, on an SOP revision no longer in force, or
        expiring within `DUE_WITHIN_DAYS`."""
        if self.latest is None:
            return False
        soon = self.latest.expires_on <= self.today + timedelta(days=DUE_WITHIN_DAYS)
        return not self.current or soon

    @property
    def words(self) -> str:
        if self.latest is None:
            return "Not trained"
        if self.retrain_on is not None:
            return f"Due — retrain on revision {self.retrain_on.revision}"
        if self.current:
            return f"Current until {self.latest.expires_on}"
        return f"Expired {self.latest.expires_on}"


def _sop_revision(
    curriculum: Curriculum, effective: dict[str, DocumentRevision]
) -> DocumentRevision | None:
    return effective.get(curriculum.code) if curriculum.kind == "sop" else None


def training_state(session: Session, *, user: User, code: str, today: date) -> TrainingState | None:
    """The person's standing on one curriculum (None when the curriculum does not exist)."""
    curriculum = get_curriculum(session, code)
    if curriculum is None:
        return None
    latest = session.exec(
        select(TrainingRecord)
        .where(TrainingRecord.user_id == user.id, TrainingRecord.curriculum_id == curriculum.id)
        .where(col(TrainingRecord.trained_on) <= today)
        .order_by(col(TrainingRecord.trained_on).desc(), col(TrainingRecord.id).desc())
    ).first()
    revision = (
        documents.effective_revision(session, curriculum.code) if curriculum.kind == "sop" else None
    )
    return TrainingState(curriculum, latest, today, revision)


def matrix(session: Session, *, today: date) -> list[tuple[User, list[TrainingState]]]:
    """Everyone active against every curriculum (the training matrix page), from one read of
    the records: the newest record per person and curriculum counts, as in `training_state`."""
    curricula = list_curricula(session)
    effective = documents.effective_by_code(session)
    people = session.exec(select(User).where(User.active).order_by(User.username)).all()
    latest: dict[tuple[int, int], TrainingRecord] = {}
    for record in session.exec(
        select(TrainingRecord)
        .where(col(TrainingRecord.trained_on) <= today)
        .order_by(col(TrainingRecord.trained_on), col(TrainingRecord.id))
    ):
        latest[(record.user_id, record.curriculum_id)] = record  # later rows win
    return [
        (
            person,
            [
                TrainingState(
                    c,
                    latest.get((person.id, c.id)),  # type: ignore[arg-type]
                    today,
                    _sop_revision(c, effective),
                )
                for c in curricula
            ],
        )
        for person in people
    ]


@dataclass(frozen=True)
class DueTraining:
    """A person's training that is due, curriculum by curriculum."""

    user_id: int
    name: str  # the person's printed name
    states: list[TrainingState]


def due_training(session: Session, *, today: date, person: User | None = None) -> list[DueTraining]:
    """The active people whose training is due (`TrainingState.due`), or `person` only, by
    name, from one read of the records and one of the SOP revisions in force: the newest
    record per person and curriculum counts, as in `training_state`."""
    query = (
        select(TrainingRecord, Curriculum, col(User.full_name))
        .join(Curriculum, col(Curriculum.id) == TrainingRecord.curriculum_id)
        .join(User, col(User.id) == TrainingRecord.user_id)
        .where(col(User.active), col(TrainingRecord.trained_on) <= today)
        .order_by(col(TrainingRecord.trained_on), col(TrainingRecord.id))
    )
    if person is not None:
        query = query.where(TrainingRecord.user_id == person.id)
    latest: dict[tuple[int, int], tuple[TrainingRecord, Curriculum]] = {}
    names: dict[int, str] = {}
    for record, curriculum, name in session.exec(query):
        latest[(record.user_id, record.curriculum_id)] = (record, curriculum)  # later rows win
        names[record.user_id] = name
    if not latest:
        return []
    effective = documents.effective_by_code(session)
    due: dict[int, list[TrainingState]] = {}
    for (user_id, _), (record, curriculum) in sorted(
        latest.items(), key=lambda item: item[1][1].code
    ):
        state = TrainingState(curriculum, record, today, _sop_revision(curriculum, effective))
        if state.due:
            due.setdefault(user_id, []).append(state)
    return sorted(
        (DueTraining(user_id, names[user_id], states) for user_id, states in due.items()),
        key=lambda d: d.name,
    )


@dataclass(frozen=True)
class TrainingEntry:
    """One training record as a person's history shows it."""

    record: TrainingRecord
    curriculum: Curriculum
    recorded_by: str  # the recorder's printed name, or the system


def history(
    session: Session, *, user_id: int, viewer: User | None = None
) -> tuple[User, list[TrainingEntry]]:
    """A person's training records, newest first: every record stays, with its reason.

    Raises:
        PermissionDenied: `viewer` may not see them (`may_see_records`). NotFound: no such
        person.
    """
    if viewer is not None and not may_see_records(viewer, user_id):
        require_role(viewer, *VIEWERS, action="see other people's training records")
    person = session.get(User, user_id) if record_id(user_id) is not None else None
    if person is None:
        raise NotFound(f"There is no user with id {user_id}.")
    names = {u.id: u.full_name for u in session.exec(select(User))}
    rows = session.exec(
        select(TrainingRecord, Curriculum)
        .join(Curriculum, col(Curriculum.id) == TrainingRecord.curriculum_id)
        .where(TrainingRecord.user_id == user_id)
        .order_by(col(TrainingRecord.trained_on).desc(), col(TrainingRecord.id).desc())
    )
    return person, [
        TrainingEntry(record, curriculum, names.get(record.recorded_by_id, "the system"))
        for record, curriculum in rows
    ]


def role_for_step(step: RecipeStep) -> Role:
    """Who performs a step of this kind: QA holds a hold point, operators do the rest."""
    return Role.QA if step.kind == StepKind.QA_HOLD else Role.OPERATOR


def step_qualification(
    session: Session, *, user: User, step: RecipeStep, clock: Clock
) -> list[Violation]:
    """Every reason `user` may not perform `step` now; empty when qualified."""
    today = clock.today()
    state = (
        training_state(session, user=user, code=step.training_code, today=today)
        if step.training_code
        else None
    )
    return qualification_problems(user, step, state)


def states_by_code(
    session: Session, *, user: User, codes: Collection[str], today: date
) -> dict[str, TrainingState | None]:
    """`training_state` of `user` on each curriculum code (None: no such curriculum), in three
    queries however many codes and records there are: the newest record counts, as there."""
    wanted = sorted({c.strip().upper() for c in codes if c and c.strip()})
    if not wanted:
        return {}
    curricula = {
        c.code: c for c in session.exec(select(Curriculum).where(col(Curriculum.code).in_(wanted)))
    }
    latest: dict[int, TrainingRecord] = {}
    ids = [c.id for c in curricula.values()]
    if ids:
        for record in session.exec(
            select(TrainingRecord)
            .where(
                TrainingRecord.user_id == user.id,
                col(TrainingRecord.curriculum_id).in_(ids),
                col(TrainingRecord.trained_on) <= today,
            )
            .order_by(col(TrainingRecord.trained_on), col(TrainingRecord.id))
        ):
            latest[record.curriculum_id] = record  # later rows win
    sops = [c.code for c in curricula.values() if c.kind == "sop"]
    effective = documents.effective_by_code(session) if sops else {}
    return {
        code: (
            TrainingState(
                curricula[code],
                latest.get(curricula[code].id),  # type: ignore[arg-type]
                today,
                _sop_revision(curricula[code], effective),
            )
            if code in curricula
            else None
        )
        for code in wanted
    }


def qualification_problems(
    user: User, step: RecipeStep, state: TrainingState | None, *, roles: Sequence[Role] = ()
) -> list[Violation]:
    """Every reason `user` may not perform `step`, from their standing on the step's training
    (`state`: None when the step names a curriculum that does not exist); `roles`: who may,
    else `role_for_step`. Pure: the one rule `step_qualification` and the floor's gates use."""
    problems = []
    if not user.active:
        problems.append(Violation("person.inactive", f"{user.full_name}'s account is deactivated."))
    roles = tuple(roles) or (role_for_step(step),)
    if not user.has_role(*roles):
        words = " or ".join(r.label for r in roles)
        problems.append(
            Violation(
                "person.role",
                f"Step {step.code} needs the {words} role; {user.full_name} does not have it.",
            )
        )
    if not step.training_code:
        return problems
    if state is None:
        problems.append(
            Violation(
                "training.unknown",
                f"Step {step.code} names training {step.training_code}, which is not a "
                "curriculum. Ask QA to correct the master record.",
            )
        )
    elif state.latest is None:
        problems.append(
            Violation(
                "training.missing",
                f"{user.full_name} has no training record for {state.curriculum.code} "
                f"({state.curriculum.title}).",
            )
        )
    elif state.retrain_on is not None:
        problems.append(
            Violation(
                "training.retrain",
                f"{user.full_name}'s training for {state.curriculum.code} predates revision "
                f"{state.retrain_on.revision}, in force since {state.retrain_on.effective_on}; "
                f"retrain on revision {state.retrain_on.revision}.",
            )
        )
    elif not state.current:
        problems.append(
            Violation(
                "training.expired",
                f"{user.full_name}'s training for {state.curriculum.code} expired on "
                f"{state.latest.expires_on}.",
            )
        )
    return problems
