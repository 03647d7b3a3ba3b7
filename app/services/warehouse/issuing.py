"""Issue and return of material for a batch, and the pick list (released lots first-expiring
first). Issuing locks the batch row, then the lot row (SELECT ... FOR UPDATE on PostgreSQL;
SQLite writers are serialised by BEGIN IMMEDIATE), so two people issuing the same last kilogram
leave one refused, and two issues of one material to one batch never pass its limit together.
A batch is issued at most its scaled target plus tolerance, plus what a supervisor approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import union_all
from sqlmodel import Session, col, select

from app.models import (
    Batch,
    BatchMaterial,
    ExcessIssueApproval,
    InventoryMovement,
    Lot,
    LotStatus,
    Material,
    MovementKind,
    User,
)
from app.services.core import audit, state_check
from app.services.core.actors import require_role
from app.services.core.clock import Clock
from app.services.core.errors import Rejected, Violation, collect, require
from app.services.core.idempotency import first_result, remember
from app.services.core.quantities import parse_quantity, shown, tolerance_amount
from app.services.core.text import max_length, read_reason, read_text
from app.services.execution import batches, excess_issues
from app.services.warehouse.ledger import (
    RECORD_TYPE,
    WAREHOUSE,
    balance,
    balances,
    get_lot,
    lock_lot,
    lot_from_scan,
)


@dataclass(frozen=True)
class IssueIn:
    lot_code: str
    quantity: str
    batch_no: str
    reason: str = ""  # why not the first-expiring lot, when it is not
    key: str = ""
    expected_lot: str = ""  # the lot the pick list asked for: the scan must be that lot


def batch_needs(session: Session, batch_no: str) -> tuple[Batch, list[BatchMaterial]]:
    """The batch and its scaled bill of materials. Raises Rejected (beside the batch field)."""
    if not batch_no.strip():
        raise Rejected([Violation("batch_no.empty", "Scan or enter the batch number.", "batch_no")])
    batch = session.exec(select(Batch).where(Batch.batch_no == batch_no.strip().upper())).first()
    if batch is None:
        raise Rejected(
            [
                Violation(
                    "batch_no.unknown",
                    f"There is no batch {batch_no.strip().upper()!r}. A supervisor creates it "
                    "from the effective master batch record first.",
                    "batch_no",
                )
            ]
        )
    needs = session.exec(
        select(BatchMaterial)
        .where(BatchMaterial.batch_id == batch.id)
        .order_by(col(BatchMaterial.position))
    ).all()
    return batch, list(needs)


def fefo_lots(session: Session, material_id: int, today: date) -> list[tuple[Lot, Decimal]]:
    """Released, unexpired lots of a material with stock, first-expiring first."""
    return _fefo_by_material(session, [material_id], today)[material_id]


def _fefo_by_material(
    session: Session, material_ids: list[int], today: date
) -> dict[int, list[tuple[Lot, Decimal]]]:
    """`fefo_lots` of each material, by material id, in two queries however many there are."""
    found: dict[int, list[tuple[Lot, Decimal]]] = {m: [] for m in material_ids}
    if not material_ids:
        return found
    lots = [
        lot
        for lot in session.exec(
            select(Lot)
            .where(col(Lot.material_id).in_(material_ids), Lot.status == LotStatus.RELEASED)
            .order_by(col(Lot.expiry).asc(), col(Lot.id))
        )
        if lot.expiry is None or lot.expiry >= today
    ]
    stock = balances(session, [lot.id for lot in lots])  # type: ignore[misc]
    for lot in lots:
        if stock[lot.id] > 0:  # type: ignore[index]
            found[lot.material_id].append((lot, stock[lot.id]))  # type: ignore[index]
    return found


def usability_problems(
    lot: Lot, today: date, field: str | None = None, *, instead: str = ""
) -> list[Violation]:
    """Why a lot may not be used now (status and expiry), in words; `field` is the form field
    the lot was scanned into, so the words sit beside it, and `instead` what to do about it
    ("scan a released lot of RM-ASC"), said after each reason."""
    problems = []
    status = LotStatus(lot.status)
    if status != LotStatus.RELEASED:
        problems.append(
            Violation(
                "lot.status",
                _then(f"Lot {lot.lot_code} is {status.label.lower()}, not released", instead),
                field,
            )
        )
    if lot.expiry is not None and lot.expiry < today:
        problems.append(
            Violation(
                "lot.expired", _then(f"Lot {lot.lot_code} expired on {lot.expiry}", instead), field
            )
        )
    return problems


def _then(sentence: str, instead: str) -> str:
    return f"{sentence} — {instead}." if instead else f"{sentence}."


def release_unfounded(session: Session, lot: Lot) -> str | None:
    """For a released lot, why its release does not stand on its evidence (a status set in the
    table but not by a QC decision on record), or None; None for a lot not released."""
    if lot.status != LotStatus.RELEASED:
        return None
    return state_check.evidence_problem(session, RECORD_TYPE, lot)


def lot_problems(
    lot: Lot, today: date, field: str | None = None, *, unfounded: str | None, instead: str = ""
) -> list[Violation]:
    """`usability_problems`, and a release that does not stand on its evidence
    (`release_unfounded`, read beforehand): such a lot is never relied on. Pure."""
    problems = usability_problems(lot, today, field, instead=instead)
    if unfounded is not None:
        problems.append(
            Violation(
                "lot.status",
                _then(
                    f"Lot {lot.lot_code} cannot be used: {unfounded}. Ask QA to look into it",
                    instead,
                ),
                field,
            )
        )
    return problems


def gate_problems(
    session: Session, lot: Lot, today: date, field: str | None = None
) -> list[Violation]:
    """`lot_problems` of `lot` at `today`, its release's evidence read now."""
    return lot_problems(lot, today, field, unfounded=release_unfounded(session, lot))


def issue(
    session: Session, *, actor: User, new: IssueIn, clock: Clock
) -> tuple[InventoryMovement, bool]:
    """Issue material from a lot to a batch. Returns the movement and whether this form had been
    submitted before.

    Raises:
        PermissionDenied: not warehouse. NotFound: unknown lot. GateViolation: the batch is
        cancelled (or closed), lot not usable, its material not on the batch's BOM, not
        first-expiring without a reason, not enough stock (said with the balance), or more
        than the batch's target and tolerance plus any approved excess (said with each).
    """
    require_role(actor, *WAREHOUSE, action="issue material")
    now = clock.now()
    earlier = first_result(session, new.key, InventoryMovement)
    if earlier is not None:
        return earlier, True
    # Every field's refusal at once, each beside its field: an empty lot is not hidden behind a
    # quantity message.
    problems: list[Violation] = []
    needed = collect(problems, lambda: batch_needs(session, new.batch_no))
    scanned = collect(
        problems, lambda: scanned_lot(session, new.lot_code, expected=new.expected_lot)
    )
    quantity = parse_quantity(new.quantity, problems)
    reason = read_reason(new.reason, problems, required=False)
    require(problems)
    assert quantity is not None
    assert needed is not None
    assert scanned is not None
    # The batch first, then the lot (the one order every issue takes): two issues of different
    # lots of one material to one batch are counted one after the other against its limit.
    batch, needs = needed
    batch = _lock_batch(session, batch)
    lot = lock_lot(session, scanned.id)  # type: ignore[arg-type]
    today = clock.today()
    # Asked with the batch locked: a cancellation of it is either before this issue or after.
    problems = batches.issue_problems(session, batch) + gate_problems(session, lot, today, "lot")
    material = session.get(Material, lot.material_id)
    assert material is not None
    limit = None
    if lot.material_id not in {n.material_id for n in needs}:
        problems.append(
            Violation(
                "lot.wrong_material",
                f"Lot {lot.lot_code} is {material.code}, which batch {batch.batch_no} does "
                "not use: a material that is not on its bill of materials is never issued to it.",
                "lot",
            )
        )
    else:
        limit = issue_limit(session, batch, needs, material)
        problems += limit.problems(lot, quantity)
    first = fefo_lots(session, lot.material_id, today)
    # A lot that expires the same day as the first is as good as the first.
    if not problems and first and first[0][0].expiry != lot.expiry and not reason:
        problems.append(
            Violation(
                "lot.fefo",
                f"Lot {first[0][0].lot_code} expires first ({first[0][0].expiry}); issue it, or "
                f"give a reason for taking {lot.lot_code}.",
                "reason",
            )
        )
    stock = balance(session, lot.id)  # type: ignore[arg-type]
    if quantity > stock:
        problems.append(
            Violation(
                "lot.balance",
                f"Lot {lot.lot_code} has only {shown(stock, lot.unit)} left; "
                f"{shown(quantity, lot.unit)} cannot be issued.",
                "quantity",
            )
        )
    require(problems, gate=True)
    movement = InventoryMovement(
        lot_id=lot.id,  # type: ignore[arg-type]
        kind=MovementKind.ISSUE.value,
        quantity=-quantity,
        unit=lot.unit,
        batch_id=batch.id,
        reference=f"issue to {batch.batch_no}",
        reason=reason or None,
        at=now,
        by_id=actor.id,  # type: ignore[arg-type]
    )
    session.add(movement)
    session.flush()
    remember(
        session,
        key=new.key,
        form="issue",
        user=actor,
        result=f"movement:{movement.id}",
        clock=clock,
    )
    after: dict[str, object] = {
        "quantity": quantity,
        "unit": lot.unit,
        "batch_no": batch.batch_no,
        "balance": stock - quantity,
    }
    assert limit is not None
    beyond = limit.issued + quantity - limit.band
    if beyond > 0:
        # What this issue takes of the supervisors' approved excess, and whose approvals.
        after["beyond_tolerance"] = beyond
        after["excess_approvals"] = [a.id for a in limit.approvals]
    audit.record(
        session,
        actor=actor,
        action="lot.issued",
        entity_type=RECORD_TYPE,
        entity_id=lot.id,
        after=after,
        reason=movement.reason,
        clock=clock,
    )  # fmt: skip
    return movement, False


def scanned_lot(session: Session, scanned: str, *, expected: str = "") -> Lot:
    """The lot scanned into an issue form; when the pick list named a lot, it must be that one
    (the lot in hand is checked, not assumed). Raises Rejected beside the lot field."""
    problems: list[Violation] = []
    want = read_text(
        expected, field="lot", label="pick list's lot", problems=problems,
        limit=max_length(Lot, "lot_code"), code=True,
    ).upper()  # fmt: skip
    require(problems)  # a forged hint, not a scan: said beside the lot field
    lot = lot_from_scan(session, scanned, field="lot")
    if want and lot.lot_code != want:
        raise Rejected(
            [
                Violation(
                    "lot.not_picked",
                    f"This is lot {lot.lot_code}; the pick list asks for lot {want}. Scan the "
                    f"label of {want}, or go back to the pick list to choose another lot.",
                    "lot",
                )
            ]
        )
    return lot


def _lock_batch(session: Session, batch: Batch) -> Batch:
    """The batch row, locked for this transaction (PostgreSQL); SQLite serialises writers."""
    locked = session.exec(select(Batch).where(Batch.id == batch.id).with_for_update()).one()
    session.refresh(locked)
    return locked


@dataclass(frozen=True)
class IssueLimit:
    """How much of one material a batch may be issued: its scaled target, the tolerance around
    it, what supervisors approved beyond that, and what it holds already (issues net of
    returns), all in the BOM's unit."""

    batch: Batch
    material: Material
    unit: str
    target: Decimal
    tolerance: Decimal
    tolerance_words: str  # "±2 % (0.010 kg)"
    approvals: list[ExcessIssueApproval]
    issued: Decimal

    @property
    def band(self) -> Decimal:
        return self.target + self.tolerance

    @property
    def approved(self) -> Decimal:
        return excess_issues.total(self.approvals)

    @property
    def most(self) -> Decimal:
        return self.band + self.approved

    @property
    def remaining(self) -> Decimal:
        return max(self.most - self.issued, Decimal(0))

    def problems(self, lot: Lot, quantity: Decimal) -> list[Violation]:
        """Why `quantity` from `lot` may not be issued on top of what the batch holds."""
        if lot.unit != self.unit:
            return [
                Violation(
                    "lot.unit",
                    f"Lot {lot.lot_code} is counted in {lot.unit}, but batch "
                    f"{self.batch.batch_no} asks for {self.material.code} in {self.unit}.",
                    "quantity",
                )
            ]
        if self.issued + quantity <= self.most:
            return []
        approved = (
            f" plus {shown(self.approved, self.unit)} excess approved" if self.approvals else ""
        )
        held = (
            f"{shown(self.issued, self.unit)} is already issued"
            if self.issued
            else "nothing is issued yet"
        )
        room = (
            f"at most {shown(self.remaining, self.unit)} more may be issued"
            if self.remaining
            else "nothing more may be issued"
        )
        return [
            Violation(
                "batch.over_target",
                f"Batch {self.batch.batch_no} needs {shown(self.target, self.unit)} of "
                f"{self.material.code} {self.tolerance_words}{approved}; {held}, so {room}, "
                f"not {shown(quantity, self.unit)}. More needs a supervisor's excess approval, "
                "with a reason, on the batch page.",
                "quantity",
            )
        ]


def issue_limit(
    session: Session, batch: Batch, needs: list[BatchMaterial], material: Material
) -> IssueLimit:
    """The issue limit of `material` for `batch` (its lines of the scaled BOM added up)."""
    lines = [n for n in needs if n.material_id == material.id]
    target = sum((n.quantity for n in lines), Decimal(0))
    amounts = [tolerance_amount(n.quantity, n.tolerance_kind, n.tolerance) for n in lines]
    tolerance = sum(amounts, Decimal(0))
    if len(lines) == 1 and lines[0].tolerance_kind == "percent":
        words = f"±{lines[0].tolerance.normalize():f} % ({shown(tolerance, lines[0].unit)})"
    else:
        words = f"±{shown(tolerance, lines[0].unit)}"
    taken = session.exec(
        select(col(InventoryMovement.quantity))
        .join(Lot, col(Lot.id) == InventoryMovement.lot_id)
        .where(
            Lot.material_id == material.id,
            InventoryMovement.batch_id == batch.id,
            col(InventoryMovement.kind).in_([MovementKind.ISSUE, MovementKind.RETURN]),
        )
    )
    return IssueLimit(
        batch=batch,
        material=material,
        unit=lines[0].unit,
        target=target,
        tolerance=tolerance,
        tolerance_words=words,
        approvals=excess_issues.approved_excess(
            session,
            batch_id=batch.id,  # type: ignore[arg-type]
            material_id=material.id,  # type: ignore[arg-type]
        ),
        issued=-sum(taken, Decimal(0)),
    )


def return_to_stock(
    session: Session,
    *,
    actor: User,
    lot_code: str,
    quantity: str,
    batch_no: str,
    key: str,
    clock: Clock,
) -> tuple[InventoryMovement, bool]:
    """Return unused material from a batch to its lot (never more than the batch took).

    Raises:
        PermissionDenied, NotFound, Rejected.
    """
    require_role(actor, *WAREHOUSE, action="return material")
    now = clock.now()
    earlier = first_result(session, key, InventoryMovement)
    if earlier is not None:
        return earlier, True
    problems: list[Violation] = []
    amount = parse_quantity(quantity, problems)
    require(problems)
    assert amount is not None
    lot = lock_lot(session, get_lot(session, lot_code).id)  # type: ignore[arg-type]
    batch_row = batch_needs(session, batch_no)[0]
    batch = batch_row.batch_no
    taken = -sum(
        session.exec(
            select(col(InventoryMovement.quantity)).where(
                InventoryMovement.lot_id == lot.id,
                InventoryMovement.batch_id == batch_row.id,
                col(InventoryMovement.kind).in_([MovementKind.ISSUE, MovementKind.RETURN]),
            )
        ),
        Decimal(0),
    )
    if amount > taken:
        raise Rejected(
            [
                Violation(
                    "return.too_much",
                    f"Batch {batch} holds {shown(taken, lot.unit)} of lot {lot.lot_code}; "
                    f"{shown(amount, lot.unit)} cannot come back.",
                    "quantity",
                )
            ]
        )
    movement = InventoryMovement(
        lot_id=lot.id,  # type: ignore[arg-type]
        kind=MovementKind.RETURN.value,
        quantity=amount,
        unit=lot.unit,
        batch_id=batch_row.id,
        reference=f"return from {batch}",
        at=now,
        by_id=actor.id,  # type: ignore[arg-type]
    )
    session.add(movement)
    session.flush()
    remember(
        session, key=key, form="return", user=actor, result=f"movement:{movement.id}", clock=clock
    )
    audit.record(
        session,
        actor=actor,
        action="lot.returned",
        entity_type=RECORD_TYPE,
        entity_id=lot.id,
        after={"quantity": amount, "unit": lot.unit, "batch_no": batch},
        clock=clock,
    )
    return movement, False


@dataclass
class PickLine:
    material: Material
    required: Decimal
    unit: str
    issued: Decimal
    lots: list[tuple[Lot, Decimal]]

    @property
    def open(self) -> Decimal:
        return max(self.required - self.issued, Decimal(0))

    @property
    def done(self) -> bool:
        """Issued in full: nothing left to pick for this line."""
        return self.open == 0

    def to_take(self, stock: Decimal) -> Decimal:
        """How much to issue from a lot holding `stock`: what is still open, at most all of it."""
        return min(self.open, stock)

    @property
    def available(self) -> Decimal:
        return sum((stock for _, stock in self.lots), Decimal(0))


def pick_list(session: Session, *, batch_no: str, today: date) -> tuple[Batch, list[PickLine]]:
    """What a batch needs from the warehouse: each line of its scaled bill of materials, what
    was issued to it so far, and the released lots to take, first-expiring first.

    Raises:
        Rejected: no such batch, or one nothing is issued to (cancelled, finished).
    """
    batch, needs = batch_needs(session, batch_no)
    require(batches.issue_problems(session, batch))
    material_ids = list(dict.fromkeys(n.material_id for n in needs))
    if not material_ids:
        return batch, []
    material = {
        m.id: m for m in session.exec(select(Material).where(col(Material.id).in_(material_ids)))
    }
    issued = dict.fromkeys(material_ids, Decimal(0))
    taken = session.exec(
        select(col(Lot.material_id), col(InventoryMovement.quantity))
        .join(Lot, col(Lot.id) == InventoryMovement.lot_id)
        .where(
            col(Lot.material_id).in_(material_ids),
            InventoryMovement.batch_id == batch.id,
            col(InventoryMovement.kind).in_([MovementKind.ISSUE, MovementKind.RETURN]),
        )
    )
    for material_id, quantity in taken:
        issued[material_id] -= quantity
    stock = _fefo_by_material(session, material_ids, today)
    lines = [
        PickLine(
            material=material[need.material_id],
            required=need.quantity,
            unit=need.unit,
            issued=issued[need.material_id],
            lots=stock[need.material_id],
        )
        for need in needs
    ]
    return batch, lines


# Batches the warehouse picks for: made from their frozen bill of materials, not yet finished.
PICKABLE = batches.OPEN_FOR_ISSUE  # the batches' own rule: a cancelled batch is never picked for


def batches_to_pick(session: Session) -> list[str]:
    """The numbers of the batches still to pick for, oldest first: planned or in progress, with
    a material of their scaled bill of materials not issued in full yet (issues net of returns,
    as the pick list counts them). One query however many batches, lines and movements."""
    pickable = col(Batch.status).in_([s.value for s in PICKABLE])
    needed = (
        select(
            col(Batch.id),
            col(Batch.batch_no),
            col(BatchMaterial.material_id),
            col(BatchMaterial.quantity),
        )
        .join(BatchMaterial, col(BatchMaterial.batch_id) == Batch.id)
        .where(pickable)
    )
    # Issues are negative and returns positive: added to the needs they leave what is open.
    issued = (
        select(
            col(Batch.id),
            col(Batch.batch_no),
            col(Lot.material_id),
            col(InventoryMovement.quantity),
        )
        .join(InventoryMovement, col(InventoryMovement.batch_id) == Batch.id)
        .join(Lot, col(Lot.id) == InventoryMovement.lot_id)
        .where(
            pickable,
            col(InventoryMovement.kind).in_([MovementKind.ISSUE, MovementKind.RETURN]),
        )
    )
    open_: dict[tuple[int, str, int], Decimal] = {}
    for batch_id, batch_no, material_id, quantity in session.execute(union_all(needed, issued)):
        key = (batch_id, batch_no, material_id)
        open_[key] = open_.get(key, Decimal(0)) + quantity
    return [
        batch_no
        for batch_id, batch_no in sorted({(k[0], k[1]) for k, left in open_.items() if left > 0})
    ]
