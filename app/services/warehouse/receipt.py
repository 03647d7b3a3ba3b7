"""Receipt into quarantine: by scan or by hand, opening stock at go-live, one code per lot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, col, func, select

from app.models import (
    Batch,
    InventoryMovement,
    Lot,
    LotStatus,
    Material,
    MovementKind,
    Party,
    User,
)
from app.services.core import audit, gs1, numbering
from app.services.core.actors import Actor, SystemActor, require_role
from app.services.core.clock import Clock
from app.services.core.dates import too_far_ahead
from app.services.core.errors import PermissionDenied, Rejected, Violation, require
from app.services.core.idempotency import first_result, remember
from app.services.core.quantities import parse_quantity, read_whole_number
from app.services.core.text import max_length, read_text
from app.services.masterdata import materials
from app.services.warehouse.ledger import RECORD_TYPE, WAREHOUSE


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


def _next_lot_code(session: Session, material: Material, at: datetime) -> str:
    short = material.code[3:] if material.code.startswith("RM-") else material.code
    prefix = f"{short}-{at:%y%m}-"
    taken = session.exec(
        select(func.count()).select_from(Lot).where(col(Lot.lot_code).startswith(prefix))
    ).one()
    return f"{prefix}{numbering.next_number(session, prefix, taken=taken):02d}"


@dataclass(frozen=True)
class CheckedReceipt:
    material: Material
    supplier: Party
    quantity: Decimal
    containers: int
    supplier_lot: str


MAX_CONTAINERS = 10_000


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
    supplier_lot = read_text(
        new.supplier_lot, field="supplier_lot", label="supplier's lot number", problems=problems,
        limit=max_length(Lot, "supplier_lot"), required=True, code=True,
        empty="Enter the supplier's lot number.",
    )  # fmt: skip
    quantity = parse_quantity(new.quantity, problems, unit=material.unit if material else None)
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
    else:
        too_far_ahead(
            new.expiry, today=today, field="expiry", label="expiry date", problems=problems
        )
    containers = read_whole_number(
        new.containers or "1", field="containers", label="number of containers",
        problems=problems, high=MAX_CONTAINERS,
    )  # fmt: skip
    require(problems)
    assert material is not None
    assert supplier is not None
    assert quantity is not None
    assert containers is not None
    return CheckedReceipt(material, supplier, quantity, containers, supplier_lot)


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
    batch: Batch | None = None  # production: the batch that made it


def create_lot(
    session: Session,
    *,
    actor: Actor,
    new: NewLot,
    by: User,
    at: datetime,
    clock: Clock,
    status: LotStatus,
    action: str,
    movement: MovementKind,
    reference: str,
    reason: str | None = None,
) -> Lot:
    """A lot with its first movement and its audit event (the one way lots come to exist)."""
    material = new.material
    lot = Lot(
        lot_code=new.lot_code or _next_lot_code(session, material, clock.local(at)),
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
            batch_id=new.batch.id if new.batch else None,
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
        clock=clock,
    )
    return lot


def _receipt_lot(checked: CheckedReceipt, new: ReceiptIn, lot_code: str | None = None) -> NewLot:
    return NewLot(
        material=checked.material,
        quantity=checked.quantity,
        expiry=new.expiry,
        supplier=checked.supplier,
        supplier_lot=checked.supplier_lot,
        gtin=new.gtin or None,
        containers=checked.containers,
        lot_code=lot_code,
    )


def receive(session: Session, *, actor: User, new: ReceiptIn, clock: Clock) -> tuple[Lot, bool]:
    """Receive a delivery into quarantine under a new internal lot code, with its receipt
    movement. Returns the lot and whether this form had been submitted before (then nothing new
    is recorded and the first lot is returned).

    Raises:
        PermissionDenied: not warehouse. Rejected: every problem with the delivery at once.
    """
    require_role(actor, *WAREHOUSE, action="receive material")
    now = clock.now()
    earlier_lot = first_result(session, new.key, Lot)
    if earlier_lot is not None:
        return earlier_lot, True
    checked = _check_receipt(session, new, today=clock.today())
    lot = create_lot(
        session,
        actor=actor,
        new=_receipt_lot(checked, new),
        by=actor,
        at=now,
        status=LotStatus.QUARANTINE,
        action="lot.received",
        movement=MovementKind.RECEIPT,
        reference=f"{checked.supplier.code} lot {checked.supplier_lot}",
        clock=clock,
    )
    remember(session, key=new.key, form="receipt", user=actor, result=f"lot:{lot.id}", clock=clock)
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
    clock: Clock,
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
    checked = _check_receipt(session, new, today=clock.date_of(received_at), opening=True)
    return create_lot(
        session,
        actor=actor,
        new=_receipt_lot(checked, new, lot_code.strip().upper()),
        by=received_by,
        at=received_at,
        status=status,
        action="lot.opening_stock",
        movement=MovementKind.RECEIPT,
        reference=f"{checked.supplier.code} lot {checked.supplier_lot}",
        reason=f"Opening stock at go-live, status from paper: {reference}",
        clock=clock,
    )


def prefill_from_scan(session: Session, raw: str) -> tuple[gs1.Scan, Material | None]:
    """What a scanned supplier label fills in, and the material its GTIN belongs to.

    Raises:
        Rejected: not a GS1 barcode, a bad check digit, or a GTIN no material has.
    """
    problems: list[Violation] = []
    read_text(raw.replace(gs1.GS, ""), field="scan", label="scan", problems=problems, limit=200)
    require(problems)
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
