"""Receipt into quarantine: by scan or by hand, opening stock at go-live, one code per lot.

FSMA 204 (21 CFR 1.1345): a received food keeps the traceability lot code its source assigned,
beside our internal lot code, with its TLC source (the party where it was assigned, or a
reference such as an FEI, GLN or web address). A food on the Food Traceability List is not
received without one; when an exempt source gives none, we assign it (1.1345(b)) explicitly,
with our site as its source and the reason in the audit trail.
"""

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
from app.services.core.text import NOTE_LENGTH, max_length, read_text
from app.services.masterdata import materials, parties
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
    # FSMA 204: the TLC the source gave and where it was assigned (a party's code, and/or a
    # reference: FEI, GLN or web address); or, for an exempt source that gave none, our own
    # TLC assigned on receipt, with the reason (1.1345(b)).
    tlc: str = ""
    tlc_source: str = ""
    tlc_source_reference: str = ""
    assign_tlc: bool = False
    assign_tlc_reason: str = ""


def _next_lot_code(session: Session, material: Material, at: datetime) -> str:
    short = material.code[3:] if material.code.startswith("RM-") else material.code
    prefix = f"{short}-{at:%y%m}-"
    taken = session.exec(
        select(func.count()).select_from(Lot).where(col(Lot.lot_code).startswith(prefix))
    ).one()
    return f"{prefix}{numbering.next_number(session, prefix, taken=taken):02d}"


@dataclass(frozen=True)
class Traceability:
    """A lot's TLC as checked: the source's, or ours to assign (`assign_reason` says why)."""

    tlc: str | None = None
    source: Party | None = None
    reference: str | None = None
    assign_reason: str | None = None  # we assign the TLC (1.1345(b)): our lot code, our site


@dataclass(frozen=True)
class CheckedReceipt:
    material: Material
    supplier: Party
    quantity: Decimal
    containers: int
    supplier_lot: str
    traceability: Traceability = Traceability()


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
    traceability = _check_traceability(session, new, material, supplier, supplier_lot, problems)
    require(problems)
    assert material is not None
    assert supplier is not None
    assert quantity is not None
    assert containers is not None
    return CheckedReceipt(material, supplier, quantity, containers, supplier_lot, traceability)


def _check_traceability(
    session: Session,
    new: ReceiptIn,
    material: Material | None,
    supplier: Party | None,
    supplier_lot: str,
    problems: list[Violation],
) -> Traceability:
    """The delivery's TLC and TLC source (1.1345(a)(1), (7)), or ours to assign (1.1345(b)).

    A supplier that declares its lot number to be its TLC (`Party.lot_is_tlc`, e.g. the GS1
    AI (10) on its label) needs none typed: the supplier lot is the TLC, the supplier its source.
    """
    tlc = read_text(
        new.tlc, field="tlc", label="traceability lot code", problems=problems,
        limit=max_length(Lot, "tlc"), code=True,
    )  # fmt: skip
    reference = read_text(
        new.tlc_source_reference, field="tlc_source_reference", label="TLC source reference",
        problems=problems, limit=max_length(Lot, "tlc_source_reference"), code=True,
    )  # fmt: skip
    source_code = read_text(
        new.tlc_source, field="tlc_source", label="TLC source", problems=problems, limit=40,
        code=True,
    ).upper()  # fmt: skip
    source = parties.get_by_code(session, source_code) if source_code else None
    if source_code and (source is None or not source.active):
        problems.append(
            Violation(
                "tlc_source.unknown",
                f"There is no active party {source_code!r}: choose where the TLC was assigned, "
                "or give its FEI, GLN or web address as the TLC source reference.",
                "tlc_source",
            )
        )
    food = material is not None and material.on_traceability_list
    if new.assign_tlc:
        return _assigned_here(session, new, material, bool(tlc or source_code or reference),
                              problems)  # fmt: skip
    if not tlc and supplier is not None and supplier.lot_is_tlc and supplier_lot:
        tlc = supplier_lot
        if not source_code and not reference:
            source = supplier
    if food and not tlc:
        assert material is not None
        problems.append(
            Violation(
                "tlc.empty",
                f"{material.code} is on the Food Traceability List: enter the traceability lot "
                "code (TLC) the source gave. If the source is exempt and gave none, assign ours.",
                "tlc",
            )
        )
    elif tlc and source is None and not reference and not source_code:
        problems.append(
            Violation(
                "tlc_source.empty",
                "Say where the TLC was assigned: choose the party, or give its FEI, GLN or web "
                "address as the TLC source reference.",
                "tlc_source",
            )
        )
    elif not tlc and reference:
        problems.append(Violation("tlc.empty", "Enter the TLC this TLC source assigned.", "tlc"))
    if not tlc:  # the form offers the supplier as source: without a TLC it names nothing
        return Traceability()
    return Traceability(tlc, source, reference or None)


def _assigned_here(
    session: Session,
    new: ReceiptIn,
    material: Material | None,
    given: bool,
    problems: list[Violation],
) -> Traceability:
    """Our own TLC for a food whose exempt source gave none (1.1345(b)), with the reason."""
    if material is not None and not material.on_traceability_list:
        problems.append(
            Violation(
                "assign_tlc.not_ftl",
                f"{material.code} is not on the Food Traceability List: no TLC of ours is "
                "assigned on receipt.",
                "assign_tlc",
            )
        )
    if given:
        problems.append(
            Violation(
                "assign_tlc.given",
                "The source gave a TLC: keep theirs. Assign ours only when an exempt source "
                "gave none.",
                "assign_tlc",
            )
        )
    reason = read_text(
        new.assign_tlc_reason, field="assign_tlc_reason", label="reason for assigning our TLC",
        problems=problems, limit=NOTE_LENGTH, required=True, multiline=True,
        empty="Say why we assign the TLC (which exemption the source has, why it gave none); "
        "it is kept in the audit trail.",
    )  # fmt: skip
    try:
        site = parties.our_site(session)
    except Rejected as exc:
        problems.extend(exc.violations)
        return Traceability()
    return Traceability(source=site, assign_reason=reason)


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
    # FSMA 204: the TLC and its source as received, or (tlc_is_lot_code) one we assign, our
    # lot code, when we transform the food or receive it from an exempt source without one.
    tlc: str | None = None
    tlc_source: Party | None = None
    tlc_source_reference: str | None = None
    tlc_is_lot_code: bool = False


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
    lot_code = new.lot_code or _next_lot_code(session, material, clock.local(at))
    lot = Lot(
        lot_code=lot_code,
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
        tlc=lot_code if new.tlc_is_lot_code else new.tlc,
        tlc_source_id=new.tlc_source.id if new.tlc_source else None,
        tlc_source_reference=new.tlc_source_reference,
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
            "tlc": lot.tlc,
            "tlc_source": new.tlc_source.code if new.tlc_source else None,
            "tlc_source_reference": lot.tlc_source_reference,
        },
        reason=reason,
        clock=clock,
    )
    return lot


def _receipt_lot(checked: CheckedReceipt, new: ReceiptIn, lot_code: str | None = None) -> NewLot:
    traced = checked.traceability
    return NewLot(
        material=checked.material,
        quantity=checked.quantity,
        expiry=new.expiry,
        supplier=checked.supplier,
        supplier_lot=checked.supplier_lot,
        gtin=new.gtin or None,
        containers=checked.containers,
        lot_code=lot_code,
        tlc=traced.tlc,
        tlc_source=traced.source,
        tlc_source_reference=traced.reference,
        tlc_is_lot_code=traced.assign_reason is not None,
    )


def _record_assigned_tlc(
    session: Session, *, actor: Actor, lot: Lot, checked: CheckedReceipt, clock: Clock
) -> None:
    """The trail of a TLC we assigned on receipt (1.1345(b)): which, where, and why."""
    traced = checked.traceability
    if traced.assign_reason is None:
        return
    assert traced.source is not None
    audit.record(
        session,
        actor=actor,
        action="lot.tlc_assigned",
        entity_type=RECORD_TYPE,
        entity_id=lot.id,
        after={
            "tlc": lot.tlc,
            "tlc_source": traced.source.code,
            "rule": "21 CFR 1.1345(b): received from an exempt source without a TLC",
        },
        reason=traced.assign_reason,
        clock=clock,
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
    _record_assigned_tlc(session, actor=actor, lot=lot, checked=checked, clock=clock)
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
    lot = create_lot(
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
    _record_assigned_tlc(session, actor=actor, lot=lot, checked=checked, clock=clock)
    return lot


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
