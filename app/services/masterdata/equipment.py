"""Equipment, its calibration and cleaning history, and its status derived from that history.

Status is never stored: it is computed from the latest calibration and cleaning events at the
moment it is asked for, so a piece of equipment goes overdue or unclean by itself, on time.
The floor's gates (services.execution.gates) judge equipment by `equipment_status` at the point
of use. A cleaning after a product carrying an allergen the next product lacks counts only once
a second person has verified it by signature (record type "cleaning", meaning "verified").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.models import (
    CalibrationEvent,
    CleaningEvent,
    Equipment,
    EquipmentKind,
    Meaning,
    Role,
    Signature,
    User,
)
from app.services.core import audit
from app.services.core.actors import Actor, require_role
from app.services.core.clock import Clock
from app.services.core.dates import too_far_ahead
from app.services.core.errors import NotFound, Violation, require
from app.services.core.quantities import read_whole_number
from app.services.core.text import NOTE_LENGTH, max_length, read_text
from app.services.esign import signable
from app.services.masterdata import common as masterdata

CLEANERS = (Role.OPERATOR, Role.SUPERVISOR, Role.QA, Role.ADMIN)
CLEANING_RECORD_TYPE = "cleaning"


@dataclass(frozen=True)
class EquipmentIn:
    code: str
    name: str
    kind: str
    needs_cleaning: bool = True
    clean_hold_hours: str = "72"


MAX_CLEAN_HOLD_HOURS = 24 * 366  # "clean" for longer than a year is not a hold time


@dataclass(frozen=True)
class EquipmentProblem:
    """One reason equipment may not be used: a stable code and the words for it."""

    code: str  # equipment.inactive | equipment.out_of_service | calibration.* | cleaning.*
    words: str

    @property
    def cleaning(self) -> bool:
        """A cleaning problem: anyone who works with the equipment can clean it now."""
        return self.code.startswith("cleaning.")


@dataclass(frozen=True)
class EquipmentStatus:
    """Whether the equipment may be used now, and every reason it may not, in words."""

    usable: bool
    reasons: list[EquipmentProblem] = field(default_factory=list)
    calibration_due: date | None = None
    calibration_certificate: str | None = None
    clean_until: datetime | None = None
    last_product: str | None = None

    @property
    def problems(self) -> list[str]:
        return [r.words for r in self.reasons]

    @property
    def words(self) -> str:
        return "Ready to use" if self.usable else "; ".join(self.problems)

    @property
    def badges(self) -> list[tuple[str, str]]:
        """Each problem with its colour: cleaning is a warning (anyone can clean it now),
        the rest block until someone with authority acts."""
        return [(r.words, "warn" if r.cleaning else "bad") for r in self.reasons]


def equipment_status(
    equipment: Equipment,
    calibration: CalibrationEvent | None,
    cleaning: CleaningEvent | None,
    clock: Clock,
) -> EquipmentStatus:
    """The status of `equipment` at `now` from its latest calibration and cleaning (pure)."""
    now = clock.now()
    reasons = []
    if not equipment.active:
        reasons.append(EquipmentProblem("equipment.inactive", "Deactivated"))
    if not equipment.in_service:
        reasons.append(EquipmentProblem("equipment.out_of_service", "Out of service"))
    if calibration is None:
        reasons.append(EquipmentProblem("calibration.missing", "No calibration recorded"))
    elif calibration.due_on < clock.today():
        reasons.append(
            EquipmentProblem(
                "calibration.overdue", f"Calibration overdue since {calibration.due_on.isoformat()}"
            )
        )
    clean_until = None
    if equipment.needs_cleaning:
        if cleaning is None:
            reasons.append(EquipmentProblem("cleaning.missing", "Not cleaned yet"))
        else:
            clean_until = cleaning.cleaned_at + timedelta(hours=equipment.clean_hold_hours)
            if clean_until < now:
                reasons.append(
                    EquipmentProblem(
                        "cleaning.expired",
                        "Not clean: cleaning expired at "
                        f"{clock.local(clean_until):%Y-%m-%d %H:%M %Z}",
                    )
                )
    return EquipmentStatus(
        usable=not reasons,
        reasons=reasons,
        calibration_due=calibration.due_on if calibration else None,
        calibration_certificate=calibration.certificate if calibration else None,
        clean_until=clean_until,
        last_product=(cleaning.last_product or None) if cleaning else None,
    )


_values = masterdata.snapshot_of(
    "code", "name", "kind", "in_service", "needs_cleaning", "clean_hold_hours", "active"
)


def _check(
    session: Session, new: EquipmentIn, *, current: Equipment | None
) -> tuple[list[Violation], dict[str, Any]]:
    code, problems = masterdata.code_problems(
        new.code,
        current=current.code if current else None,
        taken=lambda c: get_by_code(session, c),
        noun="equipment",
    )
    name = read_text(
        new.name, field="name", label="equipment's name", problems=problems,
        limit=max_length(Equipment, "name"), required=True,
    )  # fmt: skip
    if new.kind not in {k.value for k in EquipmentKind}:
        kinds = ", ".join(k.value for k in EquipmentKind)
        problems.append(Violation("kind.unknown", f"Kind must be one of {kinds}.", "kind"))
    hold = None
    if new.needs_cleaning or (new.clean_hold_hours or "").strip():
        hold = read_whole_number(
            new.clean_hold_hours, field="clean_hold_hours",
            label="time equipment stays clean, in hours", problems=problems,
            high=MAX_CLEAN_HOLD_HOURS,
        )  # fmt: skip
    values = {
        "code": code,
        "name": " ".join(name.split()),
        "kind": new.kind,
        "needs_cleaning": new.needs_cleaning,
        "clean_hold_hours": hold or 72,
    }
    return problems, values


def get_by_code(session: Session, code: str) -> Equipment | None:
    return session.exec(select(Equipment).where(Equipment.code == code.strip().upper())).first()


def get_equipment(session: Session, equipment_id: int) -> Equipment:
    """Raises NotFound."""
    equipment = session.get(Equipment, equipment_id)
    if equipment is None:
        raise NotFound(f"There is no equipment with id {equipment_id}.")
    return equipment


def calibrations(session: Session, equipment_id: int) -> list[CalibrationEvent]:
    """Newest first (by date performed, then by when it was recorded)."""
    return list(
        session.exec(
            select(CalibrationEvent)
            .where(CalibrationEvent.equipment_id == equipment_id)
            .order_by(col(CalibrationEvent.performed_on).desc(), col(CalibrationEvent.id).desc())
        )
    )


def cleanings(session: Session, equipment_id: int) -> list[CleaningEvent]:
    """Newest first."""
    return list(
        session.exec(
            select(CleaningEvent)
            .where(CleaningEvent.equipment_id == equipment_id)
            .order_by(col(CleaningEvent.cleaned_at).desc(), col(CleaningEvent.id).desc())
        )
    )


def latest_events(
    session: Session, event: type[CalibrationEvent] | type[CleaningEvent], equipment_ids: list[int]
) -> dict[int, Any]:
    """The newest event of each piece of equipment in one query (newest as `calibrations` and
    `cleanings` order them), by equipment id; equipment without one is left out."""
    when = CalibrationEvent.performed_on if event is CalibrationEvent else CleaningEvent.cleaned_at
    rank = (
        func.row_number()
        .over(
            partition_by=col(event.equipment_id), order_by=(col(when).desc(), col(event.id).desc())
        )
        .label("rank")
    )
    ranked = select(event, rank).where(col(event.equipment_id).in_(equipment_ids)).subquery()
    newest: Any = aliased(event, ranked)
    rows = session.exec(select(newest).where(ranked.c.rank == 1))
    return {row.equipment_id: row for row in rows}


def _statuses(
    session: Session, items: list[Equipment], clock: Clock
) -> list[tuple[Equipment, EquipmentStatus]]:
    """Each piece of equipment with its status, in two queries however many there are."""
    ids = [e.id for e in items]
    calibration = latest_events(session, CalibrationEvent, ids)  # type: ignore[arg-type]
    cleaning = latest_events(session, CleaningEvent, ids)  # type: ignore[arg-type]
    return [
        (e, equipment_status(e, calibration.get(e.id), cleaning.get(e.id), clock=clock))  # type: ignore[arg-type]
        for e in items
    ]


def get_status(session: Session, equipment_id: int, clock: Clock) -> EquipmentStatus:
    """Raises NotFound."""
    return _statuses(session, [get_equipment(session, equipment_id)], clock)[0][1]


def status_by_code(session: Session, code: str, clock: Clock) -> tuple[Equipment, EquipmentStatus]:
    """What a gate asks when equipment is scanned. Raises NotFound for an unknown code."""
    equipment = get_by_code(session, code)
    if equipment is None:
        raise NotFound(f"There is no equipment {code.strip().upper()!r}.")
    return equipment, get_status(session, equipment.id, clock=clock)  # type: ignore[arg-type]


def list_with_status(session: Session, clock: Clock) -> list[tuple[Equipment, EquipmentStatus]]:
    items = list(session.exec(select(Equipment).order_by(Equipment.code)))
    return _statuses(session, items, clock) if items else []


def not_ready(session: Session, clock: Clock) -> list[tuple[Equipment, EquipmentStatus]]:
    """The equipment in service that may not be used now (calibration overdue or missing, not
    clean), by code, in the three reads of `list_with_status`."""
    return [
        (item, status)
        for item, status in list_with_status(session, clock=clock)
        if item.active and item.in_service and not status.usable
    ]


def may_clean(user: User) -> bool:
    """Whether `user` may record cleanings: who works with production equipment."""
    return user.active and user.has_role(*CLEANERS)


def create_equipment(
    session: Session, *, actor: Actor, new: EquipmentIn, clock: Clock
) -> Equipment:
    """Raises PermissionDenied (admin or QA only) and Rejected (every bad field at once)."""
    masterdata.require_editor(actor)
    now = clock.now()
    problems, values = _check(session, new, current=None)
    require(problems)
    equipment = Equipment(**values, created_at=now)
    masterdata.create(
        session, actor=actor, row=equipment, entity_type="equipment", snapshot=_values, clock=clock
    )
    return equipment


def update_equipment(
    session: Session,
    *,
    actor: Actor,
    equipment_id: int,
    new: EquipmentIn,
    reason: str,
    clock: Clock,
) -> Equipment:
    """Raises PermissionDenied, NotFound, Rejected."""
    masterdata.require_editor(actor)
    equipment = get_equipment(session, equipment_id)
    problems, values = _check(session, new, current=equipment)
    require(problems + masterdata.reason_problems(reason))
    masterdata.change(
        session,
        actor=actor,
        row=equipment,
        entity_type="equipment",
        values=values,
        snapshot=_values,
        reason=reason,
        clock=clock,
    )
    return equipment


def set_in_service(
    session: Session,
    *,
    actor: Actor,
    equipment_id: int,
    in_service: bool,
    reason: str,
    clock: Clock,
) -> Equipment:
    """Take equipment out of service or put it back, with a reason.

    Raises:
        PermissionDenied, NotFound, Rejected (no reason, already so).
    """
    masterdata.require_editor(actor)
    equipment = get_equipment(session, equipment_id)
    masterdata.set_flag(
        session,
        actor=actor,
        row=equipment,
        entity_type="equipment",
        flag="in_service",
        value=in_service,
        words=("in service", "out of service"),
        actions=("returned_to_service", "taken_out_of_service"),
        name=equipment.code,
        reason=reason,
        clock=clock,
    )
    return equipment


def record_calibration(
    session: Session,
    *,
    actor: Actor,
    equipment_id: int,
    certificate: str,
    performed_on: date,
    due_on: date,
    note: str = "",
    clock: Clock,
) -> CalibrationEvent:
    """Record a calibration with its certificate and next due date (never changed afterwards).

    Raises:
        PermissionDenied: not admin or QA. NotFound. Rejected: no certificate, performed in the
        future, due not after performed.
    """
    masterdata.require_editor(actor)
    now = clock.now()
    equipment = get_equipment(session, equipment_id)
    problems: list[Violation] = []
    certificate = read_text(
        certificate,
        field="certificate",
        label="calibration or certificate ID",
        problems=problems,
        limit=max_length(CalibrationEvent, "certificate"),
        required=True,
        code=True,
        empty="Enter the calibration or certificate ID.",
    )
    note = read_text(
        note, field="note", label="note", problems=problems, limit=NOTE_LENGTH, multiline=True
    )
    if performed_on > clock.today():
        problems.append(
            Violation(
                "performed_on.future", "A calibration cannot be recorded ahead.", "performed_on"
            )
        )
    if due_on <= performed_on:
        problems.append(
            Violation("due_on.early", "The next calibration is due after this one.", "due_on")
        )
    else:
        too_far_ahead(
            due_on, today=clock.today(), field="due_on", label="next due date", problems=problems
        )
    require(problems)
    event = CalibrationEvent(
        equipment_id=equipment.id,  # type: ignore[arg-type]
        certificate=certificate.strip(),
        performed_on=performed_on,
        due_on=due_on,
        recorded_by_id=actor.id if isinstance(actor, User) else None,
        recorded_at=now,
        note=note.strip() or None,
    )
    session.add(event)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="equipment.calibrated",
        entity_type="equipment",
        entity_id=equipment.id,
        after={"certificate": event.certificate, "performed_on": performed_on, "due_on": due_on},
        clock=clock,
    )
    return event


def record_cleaning(
    session: Session,
    *,
    actor: User,
    equipment_id: int,
    cleaned_at: datetime | None = None,
    last_product: str = "",
    note: str = "",
    clock: Clock,
) -> CleaningEvent:
    """Record that `actor` cleaned the equipment (the person who cleaned records it).

    Raises:
        PermissionDenied: warehouse staff do not clean production equipment. NotFound.
        Rejected: equipment that is not cleaned, or a cleaning time in the future.
    """
    require_role(actor, *CLEANERS, action="record cleanings")
    now = clock.now()
    cleaned_at = cleaned_at or now
    equipment = get_equipment(session, equipment_id)
    problems: list[Violation] = []
    last_product = read_text(
        last_product,
        field="last_product",
        label="last product",
        problems=problems,
        limit=max_length(CleaningEvent, "last_product"),
        code=True,
    )
    note = read_text(
        note, field="note", label="note", problems=problems, limit=NOTE_LENGTH, multiline=True
    )
    if not equipment.needs_cleaning:
        problems.append(
            Violation("equipment.no_cleaning", f"{equipment.code} is not cleaned between products.")
        )
    if cleaned_at > now:
        problems.append(
            Violation("cleaned_at.future", "A cleaning cannot be recorded ahead.", "cleaned_at")
        )
    require(problems)
    event = CleaningEvent(
        equipment_id=equipment.id,  # type: ignore[arg-type]
        cleaned_at=cleaned_at,
        cleaned_by_id=actor.id,  # type: ignore[arg-type]
        last_product=last_product.strip().upper(),
        recorded_at=now,
        note=note.strip() or None,
    )
    session.add(event)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="equipment.cleaned",
        entity_type="equipment",
        entity_id=equipment.id,
        after={"cleaned_at": cleaned_at, "last_product": event.last_product},
        clock=clock,
    )
    return event


# --- Verifying a cleaning (allergen changeover) -----------------------------------------------


def verifications(session: Session, cleaning_ids: list[int]) -> dict[int, Signature]:
    """The first "verified" signature of each cleaning, by cleaning id, in one query."""
    if not cleaning_ids:
        return {}
    rows = session.exec(
        select(Signature)
        .where(
            Signature.record_type == CLEANING_RECORD_TYPE,
            col(Signature.record_id).in_([str(i) for i in cleaning_ids]),
            Signature.meaning == Meaning.VERIFIED.value,
        )
        .order_by(col(Signature.id).desc())
    )
    return {int(s.record_id): s for s in rows}  # the earliest wins: later rows overwrite


def _verification_rules(cleaning: CleaningEvent) -> signable.Rules:
    def rules(session: Session, signer: User, _meaning: Meaning, _clock: Clock) -> list[Violation]:
        if signer.id == cleaning.cleaned_by_id:
            return [
                Violation(
                    "cleaning.own",
                    "You recorded this cleaning; a second person verifies it.",
                )
            ]
        if verifications(session, [cleaning.id]):  # type: ignore[list-item]
            return [Violation("cleaning.verified", "This cleaning is verified already.")]
        return []

    return rules


@signable.register(CLEANING_RECORD_TYPE)
def _load_signable(session: Session, record_id: str) -> signable.Signable:
    cleaning = session.get(CleaningEvent, int(record_id)) if record_id.isdigit() else None
    if cleaning is None:
        raise NotFound(f"There is no cleaning {record_id!r}.")
    item = get_equipment(session, cleaning.equipment_id)
    cleaner = session.get(User, cleaning.cleaned_by_id)
    assert cleaner is not None
    after = f" after {cleaning.last_product}" if cleaning.last_product else ""
    return signable.Signable(
        record_type=CLEANING_RECORD_TYPE,
        record_id=str(cleaning.id),
        title=f"cleaning of {item.code} {item.name}{after} by {cleaner.full_name}",
        content={
            "equipment": item.code,
            "cleaned_at": cleaning.cleaned_at,
            "cleaned_by": cleaner.username,
            "last_product": cleaning.last_product,
        },
        meanings={Meaning.VERIFIED: frozenset(CLEANERS)},
        rules=_verification_rules(cleaning),
    )
