"""Training: curricula, dated training records, and the one question the floor asks —
"is this person qualified for this step right now, and if not, why not?"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from app.models import Curriculum, RecipeStep, Role, StepKind, TrainingRecord, User
from app.services.core import audit
from app.services.core.actors import Actor, require_role
from app.services.core.clock import Clock
from app.services.core.dates import too_far_ahead
from app.services.core.errors import NotFound, Violation, require
from app.services.core.quantities import read_whole_number, record_id
from app.services.core.text import NOTE_LENGTH, max_length, read_text

MAX_VALIDITY_DAYS = 20 * 366
CURRICULUM_KINDS = {"sop": "SOP", "mbr": "Master batch record"}


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
    clock: Clock,
) -> TrainingRecord:
    """Record that a person was trained. Expiry defaults to the curriculum's validity.

    Raises:
        PermissionDenied: not admin or QA. NotFound: no such person. Rejected: unknown
        curriculum, training in the future, expiry not after training.
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
    if curriculum is None:
        problems.append(
            Violation(
                "curriculum.unknown", f"There is no curriculum {curriculum_code!r}.", "curriculum"
            )
        )
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
        clock=clock,
    )
    return record


@dataclass(frozen=True)
class TrainingState:
    curriculum: Curriculum
    latest: TrainingRecord | None
    today: date

    @property
    def current(self) -> bool:
        return self.latest is not None and self.latest.expires_on >= self.today

    @property
    def words(self) -> str:
        if self.latest is None:
            return "Not trained"
        if self.current:
            return f"Current until {self.latest.expires_on}"
        return f"Expired {self.latest.expires_on}"


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
    return TrainingState(curriculum, latest, today)


def matrix(session: Session, *, today: date) -> list[tuple[User, list[TrainingState]]]:
    """Everyone active against every curriculum (the training matrix page), from one read of
    the records: the newest record per person and curriculum counts, as in `training_state`."""
    curricula = list_curricula(session)
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
            [TrainingState(c, latest.get((person.id, c.id)), today) for c in curricula],  # type: ignore[arg-type]
        )
        for person in people
    ]


def role_for_step(step: RecipeStep) -> Role:
    """Who performs a step of this kind: QA holds a hold point, operators do the rest."""
    return Role.QA if step.kind == StepKind.QA_HOLD else Role.OPERATOR


def step_qualification(
    session: Session, *, user: User, step: RecipeStep, clock: Clock
) -> list[Violation]:
    """Every reason `user` may not perform `step` now; empty when qualified."""
    today = clock.today()
    problems = []
    if not user.active:
        problems.append(Violation("person.inactive", f"{user.full_name}'s account is deactivated."))
    role = role_for_step(step)
    if not user.has_role(role):
        problems.append(
            Violation(
                "person.role",
                f"Step {step.code} needs the {role.label} role; {user.full_name} does not have it.",
            )
        )
    if step.training_code:
        state = training_state(session, user=user, code=step.training_code, today=today)
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
        elif not state.current:
            problems.append(
                Violation(
                    "training.expired",
                    f"{user.full_name}'s training for {state.curriculum.code} expired on "
                    f"{state.latest.expires_on}.",
                )
            )
    return problems
