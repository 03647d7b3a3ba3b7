"""Issue and return of material for a batch, and the pick list (released lots first-expiring
first). Issuing locks the lot row first (SELECT ... FOR UPDATE on PostgreSQL; SQLite writers are
serialised by BEGIN IMMEDIATE), so two people issuing the same last kilogram leave one refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from app.models import (
    Batch,
    BatchMaterial,
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
from app.services.core.errors import Rejected, Violation, require
from app.services.core.idempotency import first_result, remember
from app.services.core.quantities import parse_quantity, shown
from app.services.core.text import read_reason
from app.services.warehouse.ledger import (
    RECORD_TYPE,
    WAREHOUSE,
    balance,
    balances,
    get_lot,
    lock_lot,
)


@dataclass(frozen=True)
class IssueIn:
    lot_code: str
    quantity: str
    batch_no: str
    reason: str = ""  # why not the first-expiring lot, when it is not
    key: str = ""


def batch_needs(session: Session, batch_no: str) -> tuple[Batch, list[BatchMaterial]]:
    """The batch and its scaled bill of materials. Raises Rejected (beside the batch field)."""
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


def usability_problems(lot: Lot, today: date) -> list[Violation]:
    """Why a lot may not be used now (status and expiry), in words."""
    problems = []
    status = LotStatus(lot.status)
    if status != LotStatus.RELEASED:
        problems.append(
            Violation("lot.status", f"Lot {lot.lot_code} is {status.label.lower()}, not released.")
        )
    if lot.expiry is not None and lot.expiry < today:
        problems.append(Violation("lot.expired", f"Lot {lot.lot_code} expired on {lot.expiry}."))
    return problems


def gate_problems(session: Session, lot: Lot, today: date) -> list[Violation]:
    """`usability_problems`, and for a released lot whether its release stands on its evidence:
    a status set in the table but not by a QC decision on record is never relied on."""
    problems = usability_problems(lot, today)
    if lot.status == LotStatus.RELEASED:
        unfounded = state_check.evidence_problem(session, RECORD_TYPE, lot)
        if unfounded is not None:
            problems.append(
                Violation(
                    "lot.status",
                    f"Lot {lot.lot_code} cannot be used: {unfounded}. Ask QA to look into it.",
                )
            )
    return problems


def issue(
    session: Session, *, actor: User, new: IssueIn, clock: Clock
) -> tuple[InventoryMovement, bool]:
    """Issue material from a lot to a batch. Returns the movement and whether this form had been
    submitted before.

    Raises:
        PermissionDenied: not warehouse. NotFound: unknown lot. GateViolation: lot not usable,
        not first-expiring without a reason, or not enough stock (said with the balance).
    """
    require_role(actor, *WAREHOUSE, action="issue material")
    now = clock.now()
    earlier = first_result(session, new.key, InventoryMovement)
    if earlier is not None:
        return earlier, True
    problems: list[Violation] = []
    quantity = parse_quantity(new.quantity, problems)
    reason = read_reason(new.reason, problems, required=False)
    require(problems)
    assert quantity is not None
    batch, needs = batch_needs(session, new.batch_no)
    lot = lock_lot(session, get_lot(session, new.lot_code).id)  # type: ignore[arg-type]
    today = clock.today()
    problems = gate_problems(session, lot, today)
    if lot.material_id not in {n.material_id for n in needs}:
        material = session.get(Material, lot.material_id)
        problems.append(
            Violation(
                "lot.wrong_material",
                f"Lot {lot.lot_code} is {material.code if material else '?'}, which batch "
                f"{batch.batch_no} does not use.",
            )
        )
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
    audit.record(
        session,
        actor=actor,
        action="lot.issued",
        entity_type=RECORD_TYPE,
        entity_id=lot.id,
        after={"quantity": quantity, "unit": lot.unit, "batch_no": batch.batch_no,
               "balance": stock - quantity},
        reason=movement.reason,
        clock=clock,
    )  # fmt: skip
    return movement, False


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
        Rejected: no such batch.
    """
    batch, needs = batch_needs(session, batch_no)
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
