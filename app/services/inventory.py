"""The warehouse: receipt into quarantine, QC disposition by signature, the stock ledger, issue
and return of material, labels. Every floor form carries a one-time key.

A lot's balance is the sum of its movements and can never go below zero: issuing locks the lot
row first (SELECT ... FOR UPDATE on PostgreSQL; SQLite writers are serialised by BEGIN
IMMEDIATE), so two people issuing the same last kilogram at the same moment leave one refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from sqlmodel import Session, col, func, select

from app.errors import NotFound, PermissionDenied, Rejected, Violation, require
from app.models import (
    AuditEvent,
    Batch,
    BatchMaterial,
    InventoryMovement,
    Lot,
    LotStatus,
    Material,
    Meaning,
    MovementKind,
    Party,
    Role,
    Signature,
    Submission,
    User,
)
from app.models.base import utcnow
from app.services import audit, gs1, materials, signable
from app.services.actors import Actor, SystemActor, require_role

RECORD_TYPE = "lot"
Row = TypeVar("Row")
WAREHOUSE = (Role.WAREHOUSE, Role.ADMIN)
# Which QC decision may follow which status, and the status it leads to.
DISPOSITIONS: dict[Meaning, tuple[frozenset[LotStatus], LotStatus | None]] = {
    Meaning.RELEASED: (frozenset({LotStatus.QUARANTINE}), LotStatus.RELEASED),
    Meaning.REJECTED: (frozenset({LotStatus.QUARANTINE, LotStatus.ON_HOLD}), LotStatus.REJECTED),
    Meaning.HELD: (frozenset({LotStatus.QUARANTINE, LotStatus.RELEASED}), LotStatus.ON_HOLD),
    Meaning.HOLD_LIFTED: (frozenset({LotStatus.ON_HOLD}), None),  # back to what it was
}


# ---------------------------------------------------------------- one-time form keys


def first_result(session: Session, key: str, model: type[Row]) -> Row | None:
    """Check a floor form's one-time key and return what its first submission made, if the
    same form was sent before (a double tap, a retry after a dropped connection).

    Raises:
        Rejected: the form carries no usable key (a stale page).
    """
    _check_key(key)
    earlier = session.get(Submission, key)
    if earlier is None:
        return None
    return session.get(model, int(earlier.result.split(":")[1]))


def remember(
    session: Session, *, key: str, form: str, user: User, result: str, now: datetime
) -> None:
    """Keep the form's key with what it made ("lot:12"), for `first_result`."""
    if not key:
        return
    session.add(Submission(key=key, form=form, user_id=user.id, result=result, at=now))  # type: ignore[arg-type]
    session.flush()


def _check_key(key: str) -> None:
    if not key or len(key) > 64:
        raise Rejected(
            [Violation("form.key", "This form is stale (no one-time key). Reload the page.")]
        )


# ---------------------------------------------------------------- reading


def get_lot(session: Session, lot_code: str) -> Lot:
    """Raises NotFound."""
    lot = session.exec(select(Lot).where(Lot.lot_code == lot_code.strip().upper())).first()
    if lot is None:
        raise NotFound(f"There is no lot {lot_code.strip()!r}.")
    return lot


def balance(session: Session, lot_id: int) -> Decimal:
    rows = session.exec(
        select(InventoryMovement.quantity).where(InventoryMovement.lot_id == lot_id)
    )
    return sum(rows, Decimal(0))


def movements(session: Session, lot_id: int) -> list[InventoryMovement]:
    return list(
        session.exec(
            select(InventoryMovement)
            .where(InventoryMovement.lot_id == lot_id)
            .order_by(col(InventoryMovement.id))
        )
    )


@dataclass
class LotView:
    lot: Lot
    material: Material
    supplier: Party | None
    balance: Decimal
    movements: list[InventoryMovement]
    history: list[AuditEvent]

    @property
    def status(self) -> LotStatus:
        return LotStatus(self.lot.status)

    def expired(self, today: date) -> bool:
        return self.lot.expiry is not None and self.lot.expiry < today

    @property
    def where_used(self) -> list[tuple[str, Decimal]]:
        """Batches that took from this lot, with the net quantity each kept."""
        used: dict[str, Decimal] = {}
        for m in self.movements:
            if m.kind in (MovementKind.ISSUE, MovementKind.RETURN) and m.batch_no:
                used[m.batch_no] = used.get(m.batch_no, Decimal(0)) - m.quantity
        return sorted(used.items())


def load_lot(session: Session, lot_code: str) -> LotView:
    """A lot with its material, supplier, balance, movements and status history."""
    lot = get_lot(session, lot_code)
    material = session.get(Material, lot.material_id)
    assert material is not None
    history = list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity_type == RECORD_TYPE, AuditEvent.entity_id == str(lot.id))
            .order_by(col(AuditEvent.id))
        )
    )
    return LotView(
        lot,
        material,
        session.get(Party, lot.supplier_id) if lot.supplier_id else None,
        balance(session, lot.id),  # type: ignore[arg-type]
        movements(session, lot.id),  # type: ignore[arg-type]
        history,
    )


def list_lots(session: Session, *, search: str = "") -> list[tuple[Lot, Material]]:
    query = (
        select(Lot, Material)
        .join(Material, col(Material.id) == Lot.material_id)
        .order_by(col(Lot.received_at).desc())
    )
    if search.strip():
        like = f"%{search.strip().lower()}%"
        query = query.where(
            col(Lot.lot_code).ilike(like)
            | col(Lot.supplier_lot).ilike(like)
            | col(Material.code).ilike(like)
        )
    return list(session.exec(query).all())  # type: ignore[arg-type]


# ---------------------------------------------------------------- receipt


@dataclass(frozen=True)
class ReceiptIn:
    material_code: str
    supplier_code: str
    supplier_lot: str
    quantity: str
    expiry: date | None
    containers: str = "1"
    gtin: str = ""
    key: str = ""


def parse_quantity(raw: str, problems: list[Violation], field: str = "quantity") -> Decimal | None:
    try:
        value = Decimal((raw or "").strip().replace(",", "."))
    except InvalidOperation:
        problems.append(Violation(f"{field}.number", "Enter the quantity as a number.", field))
        return None
    if not value.is_finite() or value <= 0:
        problems.append(Violation(f"{field}.range", "The quantity must be more than zero.", field))
        return None
    return value


def _next_lot_code(session: Session, material: Material, now: datetime) -> str:
    short = material.code[3:] if material.code.startswith("RM-") else material.code
    prefix = f"{short}-{now:%y%m}-"
    taken = session.exec(
        select(func.count()).select_from(Lot).where(col(Lot.lot_code).startswith(prefix))
    ).one()
    return f"{prefix}{taken + 1:02d}"


@dataclass(frozen=True)
class CheckedReceipt:
    material: Material
    supplier: Party
    quantity: Decimal
    containers: int


def _check_receipt(
    session: Session, new: ReceiptIn, *, today: date, opening: bool = False
) -> CheckedReceipt:
    """Every problem with a delivery at once (Rejected), or what to record."""
    problems: list[Violation] = []
    material = materials.get_by_code(session, new.material_code) if new.material_code else None
    if material is None:
        problems.append(
            Violation(
                "material.unknown", f"There is no material {new.material_code!r}.", "material"
            )
            if new.material_code.strip()
            else Violation("material.empty", "Scan or choose the material.", "material")
        )
    elif not material.active:
        problems.append(
            Violation("material.inactive", f"{material.code} is deactivated.", "material")
        )
    if new.gtin and material is not None and material.gtin and new.gtin != material.gtin:
        problems.append(
            Violation(
                "gtin.mismatch",
                f"The scanned GTIN {new.gtin} is not {material.code}'s ({material.gtin}). "
                "Check the delivery is the right material.",
                "material",
            )
        )
    supplier = None
    if material is not None:
        approved = materials.suppliers_of(session, material.id)  # type: ignore[arg-type]
        supplier = next((p for p in approved if p.code == new.supplier_code.strip().upper()), None)
        if supplier is None:
            names = ", ".join(p.business_name for p in approved) or "none yet"
            problems.append(
                Violation(
                    "supplier.unapproved",
                    f"Choose an approved supplier of {material.code} (approved: {names}).",
                    "supplier",
                )
            )
    if not new.supplier_lot.strip():
        problems.append(
            Violation("supplier_lot.empty", "Enter the supplier's lot number.", "supplier_lot")
        )
    quantity = parse_quantity(new.quantity, problems)
    if new.expiry is None:
        problems.append(Violation("expiry.empty", "Enter the expiry date.", "expiry"))
    elif new.expiry <= today and not opening:
        problems.append(
            Violation(
                "expiry.past",
                f"This delivery expired on {new.expiry}; do not receive it.",
                "expiry",
            )
        )
    try:
        containers = int(new.containers or "1")
    except ValueError:
        containers = 0
    if containers < 1:
        problems.append(
            Violation("containers.range", "Containers is a whole number, 1 or more.", "containers")
        )
    require(problems)
    assert material is not None
    assert supplier is not None
    assert quantity is not None
    return CheckedReceipt(material, supplier, quantity, containers)


@dataclass(frozen=True)
class NewLot:
    """Everything a new lot is made of, whatever brings it in (receipt, go-live, production)."""

    material: Material
    quantity: Decimal
    expiry: date | None
    supplier: Party | None = None
    supplier_lot: str = ""
    gtin: str | None = None
    containers: int = 1
    lot_code: str | None = None  # default: the next internal code
    batch_no: str | None = None  # production: the batch that made it


def create_lot(
    session: Session,
    *,
    actor: Actor,
    new: NewLot,
    by: User,
    at: datetime,
    status: LotStatus,
    action: str,
    movement: MovementKind,
    reference: str,
    reason: str | None = None,
) -> Lot:
    """A lot with its first movement and its audit event (the one way lots come to exist)."""
    material = new.material
    lot = Lot(
        lot_code=new.lot_code or _next_lot_code(session, material, at),
        material_id=material.id,  # type: ignore[arg-type]
        supplier_id=new.supplier.id if new.supplier else None,
        supplier_lot=new.supplier_lot.strip(),
        gtin=new.gtin or None,
        expiry=new.expiry,
        status=status.value,
        unit=material.unit,
        containers=new.containers,
        received_at=at,
        received_by_id=by.id,  # type: ignore[arg-type]
    )
    session.add(lot)
    session.flush()
    session.add(
        InventoryMovement(
            lot_id=lot.id,  # type: ignore[arg-type]
            kind=movement.value,
            quantity=new.quantity,
            unit=material.unit,
            batch_no=new.batch_no,
            reference=reference,
            at=at,
            by_id=by.id,  # type: ignore[arg-type]
        )
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=RECORD_TYPE,
        entity_id=lot.id,
        after={
            "lot_code": lot.lot_code,
            "material": material.code,
            "supplier": new.supplier.code if new.supplier else None,
            "supplier_lot": lot.supplier_lot,
            "quantity": new.quantity,
            "unit": material.unit,
            "expiry": new.expiry,
            "containers": new.containers,
            "status": lot.status,
        },
        reason=reason,
        now=at,
    )
    return lot


def _receipt_lot(checked: CheckedReceipt, new: ReceiptIn, lot_code: str | None = None) -> NewLot:
    return NewLot(
        material=checked.material,
        quantity=checked.quantity,
        expiry=new.expiry,
        supplier=checked.supplier,
        supplier_lot=new.supplier_lot,
        gtin=new.gtin or None,
        containers=checked.containers,
        lot_code=lot_code,
    )


def receive(
    session: Session, *, actor: User, new: ReceiptIn, now: datetime | None = None
) -> tuple[Lot, bool]:
    """Receive a delivery into quarantine under a new internal lot code, with its receipt
    movement. Returns the lot and whether this form had been submitted before (then nothing new
    is recorded and the first lot is returned).

    Raises:
        PermissionDenied: not warehouse. Rejected: every problem with the delivery at once.
    """
    require_role(actor, *WAREHOUSE, action="receive material")
    now = now or utcnow()
    earlier_lot = first_result(session, new.key, Lot)
    if earlier_lot is not None:
        return earlier_lot, True
    checked = _check_receipt(session, new, today=now.date())
    lot = create_lot(
        session,
        actor=actor,
        new=_receipt_lot(checked, new),
        by=actor,
        at=now,
        status=LotStatus.QUARANTINE,
        action="lot.received",
        movement=MovementKind.RECEIPT,
        reference=f"{checked.supplier.code} lot {new.supplier_lot.strip()}",
    )
    remember(session, key=new.key, form="receipt", user=actor, result=f"lot:{lot.id}", now=now)
    return lot, False


def bring_in_opening_stock(
    session: Session,
    *,
    actor: SystemActor,
    new: ReceiptIn,
    received_by: User,
    received_at: datetime,
    status: LotStatus,
    reference: str,
    lot_code: str,
) -> Lot:
    """Stock that was on hand at go-live, under the lot code on its paper label and with the QC
    status it had on paper (installer and demo only; the trail says so). An expired lot may
    come in: it is on the shelf.

    Raises:
        PermissionDenied: called for a person. Rejected: as a receipt, or no reference.
    """
    if not isinstance(actor, SystemActor):
        raise PermissionDenied("Opening stock is brought in by the installer, not at the screen.")
    problems = []
    if not reference.strip():
        problems.append(Violation("reference.empty", "Give the paper record's reference."))
    if session.exec(select(Lot).where(Lot.lot_code == lot_code.strip().upper())).first():
        problems.append(Violation("lot_code.taken", f"Lot {lot_code} already exists."))
    require(problems)
    checked = _check_receipt(session, new, today=received_at.date(), opening=True)
    return create_lot(
        session,
        actor=actor,
        new=_receipt_lot(checked, new, lot_code.strip().upper()),
        by=received_by,
        at=received_at,
        status=status,
        action="lot.opening_stock",
        movement=MovementKind.RECEIPT,
        reference=f"{checked.supplier.code} lot {new.supplier_lot.strip()}",
        reason=f"Opening stock at go-live, status from paper: {reference}",
    )


def prefill_from_scan(session: Session, raw: str) -> tuple[gs1.Scan, Material | None]:
    """What a scanned supplier label fills in, and the material its GTIN belongs to.

    Raises:
        Rejected: not a GS1 barcode, a bad check digit, or a GTIN no material has.
    """
    scan = gs1.parse_scan(raw)
    material = materials.get_by_gtin(session, scan.gtin) if scan.gtin else None
    if scan.gtin and material is None:
        raise Rejected(
            [
                Violation(
                    "scan.gtin_unknown",
                    f"GTIN {scan.gtin} is not on any material here. Choose the material by "
                    "hand, and ask QA to add the GTIN to it.",
                    "scan",
                )
            ]
        )
    return scan, material


# ---------------------------------------------------------------- QC disposition (signed)


def _disposition_rules(lot_id: int) -> signable.Rules:
    def rules(session: Session, signer: User, meaning: Meaning) -> list[Violation]:
        lot = session.get(Lot, lot_id)
        assert lot is not None
        allowed_from, _ = DISPOSITIONS[meaning]
        if LotStatus(lot.status) not in allowed_from:
            status = LotStatus(lot.status).label.lower()
            return [
                Violation(
                    "lot.status",
                    f"Lot {lot.lot_code} is {status}: it cannot be “{meaning.label}” now.",
                )
            ]
        return []

    return rules


def _after_disposition(session: Session, signature: Signature, now: datetime) -> None:
    lot = session.get(Lot, int(signature.record_id))
    assert lot is not None
    meaning = Meaning(signature.meaning)
    _, to = DISPOSITIONS[meaning]
    before = lot.status
    if meaning == Meaning.HELD:
        lot.held_from = lot.status
    target = to.value if to is not None else (lot.held_from or LotStatus.QUARANTINE.value)
    lot.status = target
    if meaning == Meaning.HOLD_LIFTED:
        lot.held_from = None
    session.add(lot)
    session.flush()
    audit.record(
        session,
        actor=session.get(User, signature.signer_id),
        action=f"lot.{meaning.value}",
        entity_type=RECORD_TYPE,
        entity_id=lot.id,
        before={"status": before},
        after={"status": target, "signature_id": signature.id},
        reason=" — ".join(p for p in (signature.reason_code, signature.reason_text) if p) or None,
        now=now,
    )


@signable.register(RECORD_TYPE)
def _load_signable(session: Session, record_id: str) -> signable.Signable:
    lot = session.get(Lot, int(record_id)) if record_id.isdigit() else None
    if lot is None:
        raise NotFound(f"There is no lot {record_id!r}.")
    material = session.get(Material, lot.material_id)
    assert material is not None
    return signable.Signable(
        record_type=RECORD_TYPE,
        record_id=str(lot.id),
        title=f"lot {lot.lot_code} of {material.code} {material.name} "
        f"(supplier lot {lot.supplier_lot}, expiry {lot.expiry})",
        content={
            "lot_code": lot.lot_code,
            "material": material.code,
            "supplier_id": lot.supplier_id,
            "supplier_lot": lot.supplier_lot,
            "expiry": lot.expiry,
            "received_at": lot.received_at,
        },
        meanings={m: frozenset({Role.QA}) for m in DISPOSITIONS},
        rules=_disposition_rules(lot.id),  # type: ignore[arg-type]
        after_signing=_after_disposition,
        changes_page=True,
    )


# ---------------------------------------------------------------- issue and return


@dataclass(frozen=True)
class IssueIn:
    lot_code: str
    quantity: str
    batch_no: str
    reason: str = ""  # why not the first-expiring lot, when it is not
    key: str = ""


def lock_lot(session: Session, lot_id: int) -> Lot:
    """The lot row, locked for this transaction (PostgreSQL); SQLite serialises writers."""
    lot = session.exec(select(Lot).where(Lot.id == lot_id).with_for_update()).one()
    session.refresh(lot)
    return lot


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
    lots = session.exec(
        select(Lot)
        .where(Lot.material_id == material_id, Lot.status == LotStatus.RELEASED)
        .order_by(col(Lot.expiry).asc(), col(Lot.id))
    ).all()
    found = []
    for lot in lots:
        if lot.expiry is not None and lot.expiry < today:
            continue
        stock = balance(session, lot.id)  # type: ignore[arg-type]
        if stock > 0:
            found.append((lot, stock))
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


def issue(
    session: Session, *, actor: User, new: IssueIn, now: datetime | None = None
) -> tuple[InventoryMovement, bool]:
    """Issue material from a lot to a batch. Returns the movement and whether this form had been
    submitted before.

    Raises:
        PermissionDenied: not warehouse. NotFound: unknown lot. GateViolation: lot not usable,
        not first-expiring without a reason, or not enough stock (said with the balance).
    """
    require_role(actor, *WAREHOUSE, action="issue material")
    now = now or utcnow()
    earlier = first_result(session, new.key, InventoryMovement)
    if earlier is not None:
        return earlier, True
    problems: list[Violation] = []
    quantity = parse_quantity(new.quantity, problems)
    require(problems)
    assert quantity is not None
    batch, needs = batch_needs(session, new.batch_no)
    lot = lock_lot(session, get_lot(session, new.lot_code).id)  # type: ignore[arg-type]
    today = now.date()
    problems = usability_problems(lot, today)
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
    if not problems and first and first[0][0].id != lot.id and not new.reason.strip():
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
                f"Lot {lot.lot_code} has only {stock} {lot.unit} left; "
                f"{quantity} cannot be issued.",
                "quantity",
            )
        )
    require(problems, gate=True)
    movement = InventoryMovement(
        lot_id=lot.id,  # type: ignore[arg-type]
        kind=MovementKind.ISSUE.value,
        quantity=-quantity,
        unit=lot.unit,
        batch_no=batch.batch_no,
        reference=f"issue to {batch.batch_no}",
        reason=new.reason.strip() or None,
        at=now,
        by_id=actor.id,  # type: ignore[arg-type]
    )
    session.add(movement)
    session.flush()
    remember(
        session, key=new.key, form="issue", user=actor, result=f"movement:{movement.id}", now=now
    )
    audit.record(
        session,
        actor=actor,
        action="lot.issued",
        entity_type=RECORD_TYPE,
        entity_id=lot.id,
        after={"quantity": quantity, "unit": lot.unit, "batch_no": movement.batch_no,
               "balance": stock - quantity},
        reason=movement.reason,
        now=now,
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
    now: datetime | None = None,
) -> tuple[InventoryMovement, bool]:
    """Return unused material from a batch to its lot (never more than the batch took).

    Raises:
        PermissionDenied, NotFound, Rejected.
    """
    require_role(actor, *WAREHOUSE, action="return material")
    now = now or utcnow()
    earlier = first_result(session, key, InventoryMovement)
    if earlier is not None:
        return earlier, True
    problems: list[Violation] = []
    amount = parse_quantity(quantity, problems)
    require(problems)
    assert amount is not None
    lot = lock_lot(session, get_lot(session, lot_code).id)  # type: ignore[arg-type]
    batch = batch_needs(session, batch_no)[0].batch_no
    taken = -sum(
        session.exec(
            select(InventoryMovement.quantity).where(
                InventoryMovement.lot_id == lot.id,
                InventoryMovement.batch_no == batch,
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
                    f"Batch {batch} holds {taken} {lot.unit} of lot {lot.lot_code}; "
                    f"{amount} cannot come back.",
                    "quantity",
                )
            ]
        )
    movement = InventoryMovement(
        lot_id=lot.id,  # type: ignore[arg-type]
        kind=MovementKind.RETURN.value,
        quantity=amount,
        unit=lot.unit,
        batch_no=batch,
        reference=f"return from {batch}",
        at=now,
        by_id=actor.id,  # type: ignore[arg-type]
    )
    session.add(movement)
    session.flush()
    remember(session, key=key, form="return", user=actor, result=f"movement:{movement.id}", now=now)
    audit.record(
        session,
        actor=actor,
        action="lot.returned",
        entity_type=RECORD_TYPE,
        entity_id=lot.id,
        after={"quantity": amount, "unit": lot.unit, "batch_no": batch},
        now=now,
    )
    return movement, False


# ---------------------------------------------------------------- picking for a batch


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
    lines = []
    for need in needs:
        material = session.get(Material, need.material_id)
        assert material is not None
        issued = -sum(
            session.exec(
                select(InventoryMovement.quantity)
                .join(Lot, col(Lot.id) == InventoryMovement.lot_id)
                .where(
                    Lot.material_id == need.material_id,
                    InventoryMovement.batch_no == batch.batch_no,
                    col(InventoryMovement.kind).in_([MovementKind.ISSUE, MovementKind.RETURN]),
                )
            ),
            Decimal(0),
        )
        lines.append(
            PickLine(
                material=material,
                required=need.quantity,
                unit=need.unit,
                issued=issued,
                lots=fefo_lots(session, need.material_id, today),
            )
        )
    return batch, lines


# ---------------------------------------------------------------- labels


def label(session: Session, lot_code: str) -> tuple[LotView, gs1.LotLabel]:
    view = load_lot(session, lot_code)
    data = gs1.lot_label(
        gtin=view.material.gtin or view.lot.gtin, lot_code=view.lot.lot_code, expiry=view.lot.expiry
    )
    return view, data


def record_label_print(
    session: Session, *, actor: User, lot_code: str, reprint_reason: str = "",
    now: datetime | None = None,
) -> None:  # fmt: skip
    """Audit that a lot label was printed; a reprint needs a reason.

    Raises:
        NotFound, Rejected (reprint without reason).
    """
    now = now or utcnow()
    lot = get_lot(session, lot_code)
    printed_before = session.exec(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.entity_type == RECORD_TYPE,
            AuditEvent.entity_id == str(lot.id),
            col(AuditEvent.action).in_(["lot.label_printed", "lot.label_reprinted"]),
        )
    ).one()
    if printed_before and not reprint_reason.strip():
        raise Rejected(
            [
                Violation(
                    "reason.empty",
                    "This label was printed before: give a reason for the reprint.",
                    "reason",
                )
            ]
        )
    audit.record(
        session,
        actor=actor,
        action="lot.label_reprinted" if printed_before else "lot.label_printed",
        entity_type=RECORD_TYPE,
        entity_id=lot.id,
        after={"lot_code": lot.lot_code, "status": lot.status},
        reason=reprint_reason.strip() or None,
        now=now,
    )
