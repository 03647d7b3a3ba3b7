"""Shipping released lots to a customer.

A shipment is picked by scanning lot labels, each with its quantity, then despatched in one
step that writes the shipment movements and freezes the despatch advice as sent. A customer is
sold finished goods: a lot of any other kind (a raw material, packaging, an intermediate, a
component) ships to one only with a reason, kept on its line, in the trail and in the advice.

Shipping never makes a new traceability lot code (21 CFR 1.1320): a lot ships under the TLC it
was received with, or the one its batch assigned. Only released lots, unexpired on the plant's
date, with enough stock ship; a food on the Food Traceability List ships only with its TLC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, func, select

from app.models import (
    InventoryMovement,
    Lot,
    Material,
    MaterialKind,
    MovementKind,
    Party,
    PartyKind,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    User,
)
from app.services.core import audit, idempotency, numbering, quantities
from app.services.core.actors import require_role
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, Rejected, Violation, collect, require
from app.services.core.text import max_length, read_reason, read_text
from app.services.masterdata import parties
from app.services.trace import despatch_advice as advice
from app.services.warehouse import issuing, ledger

RECORD_TYPE = "shipment"
SHIPPERS = ledger.WAREHOUSE  # who picks and despatches


def get_shipment(session: Session, shipment_no: str) -> Shipment:
    """Raises NotFound."""
    shipment = session.exec(
        select(Shipment).where(Shipment.shipment_no == shipment_no.strip().upper())
    ).first()
    if shipment is None:
        raise NotFound(f"There is no shipment {shipment_no!r}.")
    return shipment


def list_shipments(session: Session) -> list[tuple[Shipment, Party]]:
    return list(
        session.exec(
            select(Shipment, Party)
            .join(Party, col(Party.id) == Shipment.customer_id)
            .order_by(col(Shipment.id).desc())
        ).all()
    )


def open_shipments(session: Session) -> list[str]:
    """The numbers of the shipments started and not despatched yet, oldest first (one query)."""
    return list(
        session.exec(
            select(Shipment.shipment_no)
            .where(Shipment.status == ShipmentStatus.PICKING.value)
            .order_by(col(Shipment.id))
        )
    )


def start_shipment(
    session: Session,
    *,
    actor: User,
    customer_code: str,
    reference: str,
    clock: Clock,
) -> Shipment:
    """Open a shipment to a customer location, to pick into.

    Raises:
        PermissionDenied: not warehouse. Rejected: not an active customer, or no site of ours.
    """
    require_role(actor, *SHIPPERS, action="ship")
    now = clock.now()
    problems: list[Violation] = []
    reference = read_text(
        reference,
        field="reference",
        label="customer's reference",
        problems=problems,
        limit=max_length(Shipment, "reference"),
        code=True,
    )
    require(problems)
    customer = parties.get_by_code(session, customer_code) if customer_code else None
    if customer is None or customer.kind != PartyKind.CUSTOMER or not customer.active:
        raise Rejected([Violation("customer.unknown", "Choose an active customer.", "customer")])
    site = parties.our_site(session)
    prefix = f"SH-{clock.local(now):%y%m%d}-"
    taken = session.exec(
        select(func.count())
        .select_from(Shipment)
        .where(col(Shipment.shipment_no).startswith(prefix))
    ).one()
    shipment = Shipment(
        shipment_no=f"{prefix}{numbering.next_number(session, prefix, taken=taken):02d}",
        customer_id=customer.id,  # type: ignore[arg-type]
        ship_from_id=site.id,  # type: ignore[arg-type]
        reference=reference.strip(),
        created_at=now,
        created_by_id=actor.id,  # type: ignore[arg-type]
    )
    session.add(shipment)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="shipment.started",
        entity_type=RECORD_TYPE,
        entity_id=shipment.id,
        after={"shipment_no": shipment.shipment_no, "customer": customer.code,
               "reference": shipment.reference},
        clock=clock,
    )  # fmt: skip
    return shipment


def lines(session: Session, shipment: Shipment) -> list[tuple[ShipmentLine, Lot, Material]]:
    """The shipment's lines still on it, in the order they were picked."""
    return list(
        session.exec(
            select(ShipmentLine, Lot, Material)
            .join(Lot, col(Lot.id) == ShipmentLine.lot_id)
            .join(Material, col(Material.id) == Lot.material_id)
            .where(ShipmentLine.shipment_id == shipment.id, col(ShipmentLine.removed_at).is_(None))
            .order_by(col(ShipmentLine.id))
        ).all()
    )


def _picked(session: Session, shipment: Shipment, lot: Lot) -> Decimal:
    return sum(
        (
            line.quantity
            for line, picked_lot, _ in lines(session, shipment)
            if picked_lot.id == lot.id
        ),
        Decimal(0),
    )


def _traceability_problems(session: Session, lot: Lot, field: str | None = None) -> list[Violation]:
    """An FTL food ships with its TLC (1.1340(a)(1)); it is never made up at the dock."""
    material = session.get(Material, lot.material_id)
    if material is not None and material.on_traceability_list and not lot.tlc:
        return [
            Violation(
                "lot.tlc",
                f"Lot {lot.lot_code} is a food on the Food Traceability List but has no "
                "traceability lot code; it cannot ship without one.",
                field,
            )
        ]
    return []


def _picking(shipment: Shipment) -> None:
    if shipment.status != ShipmentStatus.PICKING:
        raise Rejected(
            [Violation("shipment.shipped", f"Shipment {shipment.shipment_no} has already shipped.")]
        )


def may_ship(user: User) -> bool:
    """Whether `user` may pick and despatch shipments: the rule the commands enforce, for the
    pages to show their controls by."""
    return user.active and user.has_role(*SHIPPERS)


def sold_to_customers(material: Material) -> bool:
    """Whether customers are sold this material (a finished good). A lot of anything else ships
    to a customer only with a reason: a sample of a raw material for the customer's lab is an
    exception a person explains, not a pick made by mistake."""
    return material.kind == MaterialKind.FINISHED


_KIND_WORDS = {
    MaterialKind.RAW: "a raw material",
    MaterialKind.PACKAGING: "packaging",
    MaterialKind.INTERMEDIATE: "an intermediate",
    MaterialKind.COMPONENT: "a component",
}


@dataclass(frozen=True)
class PickScan:
    """What a scan into the pick form names: the lot and its material, so the form shows the
    quantity's unit and, for a lot customers are not sold, asks for the reason."""

    lot: Lot
    material: Material

    @property
    def unit(self) -> str:
        return self.lot.unit

    @property
    def needs_reason(self) -> bool:
        return not sold_to_customers(self.material)


def read_pick_scan(session: Session, scanned: str) -> PickScan | None:
    """The lot a scan into the pick form names, or None when it names none (the pick itself
    then says why, beside the scan field)."""
    if not scanned.strip():
        return None
    try:
        lot = ledger.lot_from_scan(session, scanned, field="scan")
    except Rejected:
        return None
    material = session.get(Material, lot.material_id)
    assert material is not None
    return PickScan(lot, material)


def _pick_reason(
    lot: Lot, material: Material, reason: str, problems: list[Violation]
) -> str | None:
    """The reason a lot customers are not sold is picked for one (required), else None."""
    if sold_to_customers(material):
        return None
    kind = _KIND_WORDS.get(MaterialKind(material.kind), material.kind)
    empty = (
        f"Lot {lot.lot_code} is {kind} ({material.name}), not a finished good sold to "
        "customers. Give the reason it ships to this customer, or scan another lot."
    )
    return read_reason(reason, problems, empty=empty).strip() or None


def add_line(
    session: Session,
    *,
    actor: User,
    shipment_no: str,
    scanned: str,
    quantity: str,
    key: str,
    clock: Clock,
    reason: str = "",
) -> tuple[ShipmentLine, bool]:
    """Pick a lot onto the shipment by scanning its label, with the quantity in the lot's unit.
    Returns the line and whether this form had been submitted before (a double tap picks once).
    A lot that is not a finished good needs `reason` (kept on the line, in the trail and in the
    despatch advice). Refusals name the field at fault: the scan, the quantity or the reason.

    Raises:
        PermissionDenied, NotFound. Rejected: shipped already, unknown lot, a bad quantity, no
        reason for a lot customers are not sold.
        GateViolation: the lot is not released, is expired, or has not enough stock left
        (counting what is already picked onto this shipment).
    """
    require_role(actor, *SHIPPERS, action="ship")
    now = clock.now()
    earlier = idempotency.first_result(session, key, ShipmentLine)
    if earlier is not None:
        return earlier, True
    shipment = get_shipment(session, shipment_no)
    _picking(shipment)
    # Every field's refusal at once, each beside its field.
    problems: list[Violation] = []
    lot = collect(problems, lambda: ledger.lot_from_scan(session, scanned, field="scan"))
    amount = quantities.parse_quantity(quantity, problems)
    require(problems)
    assert amount is not None
    assert lot is not None
    gates = issuing.gate_problems(session, lot, clock.today(), "scan")
    gates += _traceability_problems(session, lot, "scan")
    free = ledger.balance(session, lot.id) - _picked(session, shipment, lot)  # type: ignore[arg-type]
    if amount > free:
        gates.append(
            Violation(
                "lot.balance",
                f"Lot {lot.lot_code} has {quantities.shown(free, lot.unit)} free to ship; "
                f"{quantities.shown(amount, lot.unit)} cannot be picked.",
                "quantity",
            )
        )
    require(gates, gate=True)
    # Asked of a lot that could otherwise ship: never a reason for a lot refused anyway.
    material = session.get(Material, lot.material_id)
    assert material is not None
    why = _pick_reason(lot, material, reason, problems)
    require(problems)
    line = ShipmentLine(
        shipment_id=shipment.id,  # type: ignore[arg-type]
        lot_id=lot.id,  # type: ignore[arg-type]
        quantity=amount,
        unit=lot.unit,
        scanned=scanned.strip()[:200],
        added_at=now,
        pick_reason=why,
    )
    session.add(line)
    session.flush()
    idempotency.remember(
        session, key=key, form="pick", user=actor, result=f"line:{line.id}", clock=clock
    )
    audit.record(
        session,
        actor=actor,
        action="shipment.picked",
        entity_type=RECORD_TYPE,
        entity_id=shipment.id,
        after={"lot_code": lot.lot_code, "quantity": amount, "unit": lot.unit},
        reason=why,
        clock=clock,
    )
    return line, False


def remove_line(session: Session, *, actor: User, line_id: int, reason: str, clock: Clock) -> None:
    """Take a mis-picked line off a shipment before despatch (kept, marked, with a reason).

    Raises:
        PermissionDenied, NotFound, Rejected.
    """
    require_role(actor, *SHIPPERS, action="ship")
    now = clock.now()
    line = session.get(ShipmentLine, line_id)
    if line is None or line.removed_at is not None:
        raise NotFound(f"There is no picked line {line_id}.")
    shipment = session.get(Shipment, line.shipment_id)
    assert shipment is not None
    _picking(shipment)
    problems: list[Violation] = []
    reason = read_reason(reason, problems)
    require(problems)
    line.removed_at, line.removed_reason = now, reason
    session.add(line)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="shipment.unpicked",
        entity_type=RECORD_TYPE,
        entity_id=shipment.id,
        before={"line": line.id, "quantity": line.quantity},
        reason=reason.strip(),
        clock=clock,
    )


def _despatch_problems(
    session: Session,
    picked: list[tuple[ShipmentLine, Lot, Material]],
    today: date,
    *,
    lock: bool,
) -> list[Violation]:
    """Why the picked lots cannot ship now: status, expiry, TLC, stock (all picked lines of a
    lot together). `lock` takes each lot's row first, as the despatch itself does."""
    wanted: dict[int, Decimal] = {}
    for line, lot, _ in picked:
        wanted[lot.id] = wanted.get(lot.id, Decimal(0)) + line.quantity  # type: ignore[arg-type, index]
    problems: list[Violation] = []
    for lot_id, amount in wanted.items():
        lot = ledger.lock_lot(session, lot_id) if lock else ledger.lot_by_id(session, lot_id)
        problems += issuing.gate_problems(session, lot, today)
        problems += _traceability_problems(session, lot)
        stock = ledger.balance(session, lot_id)
        if amount > stock:
            problems.append(
                Violation(
                    "lot.balance",
                    f"Lot {lot.lot_code} has only {quantities.shown(stock, lot.unit)} left; "
                    f"{quantities.shown(amount, lot.unit)} cannot ship.",
                )
            )
    return problems


@dataclass(frozen=True)
class DespatchSummary:
    """What the despatch confirmation shows: where the shipment goes, what goes, the totals per
    unit, and what would stop the despatch now."""

    shipment: Shipment
    customer: Party
    lines: list[tuple[ShipmentLine, Lot, Material]]
    totals: list[tuple[Decimal, str]]
    blocked_by: list[Violation]


def despatch_summary(session: Session, shipment_no: str, clock: Clock) -> DespatchSummary:
    """The one confirmation a despatch asks for, read without changing anything: the customer,
    the lines, the totals per unit, and the violations `despatch` would refuse with now.

    Raises:
        NotFound.
    """
    shipment = get_shipment(session, shipment_no)
    picked = lines(session, shipment)
    blocked: list[Violation] = []
    if shipment.status != ShipmentStatus.PICKING:
        blocked.append(
            Violation("shipment.shipped", f"Shipment {shipment.shipment_no} has already shipped.")
        )
    elif not picked:
        blocked.append(Violation("shipment.empty", "Nothing is picked yet."))
    else:
        blocked += _despatch_problems(session, picked, clock.today(), lock=False)
    totals: dict[str, Decimal] = {}
    for line, _, _ in picked:
        totals[line.unit] = totals.get(line.unit, Decimal(0)) + line.quantity
    customer = session.get(Party, shipment.customer_id)
    assert customer is not None
    return DespatchSummary(
        shipment, customer, picked, [(amount, unit) for unit, amount in totals.items()], blocked
    )


def despatch(
    session: Session, *, actor: User, shipment_no: str, key: str, clock: Clock
) -> tuple[Shipment, bool]:
    """Ship everything picked: shipment movements out of each lot, and the despatch advice
    frozen as sent (with its hash) and in the trail. Returns the shipment and whether this form
    had been submitted before.

    Two despatches of one shipment at once (two people, two forms) ship it once: the shipment
    row is locked (PostgreSQL) and its status read again under the lock.

    Raises:
        PermissionDenied, NotFound. Rejected: nothing picked, shipped already. GateViolation: a
        lot stopped being shippable since it was picked (status, expiry or stock).
    """
    require_role(actor, *SHIPPERS, action="ship")
    now = clock.now()
    shipment = get_shipment(session, shipment_no)
    if idempotency.first_result(session, key, Shipment) is not None:
        return shipment, True
    shipment = session.exec(
        select(Shipment).where(Shipment.id == shipment.id).with_for_update()
    ).one()
    session.refresh(shipment)
    _picking(shipment)
    picked = lines(session, shipment)
    require([] if picked else [Violation("shipment.empty", "Nothing is picked yet.")])
    require(_despatch_problems(session, picked, clock.today(), lock=True), gate=True)
    for line, lot, _ in picked:
        session.add(
            InventoryMovement(
                lot_id=lot.id,  # type: ignore[arg-type]
                kind=MovementKind.SHIPMENT.value,
                quantity=-line.quantity,
                unit=line.unit,
                reference=f"shipment {shipment.shipment_no}",
                at=now,
                by_id=actor.id,  # type: ignore[arg-type]
            )
        )
    shipment.status = ShipmentStatus.SHIPPED.value
    shipment.shipped_at = now
    shipment.shipped_by_id = actor.id
    session.add(shipment)
    session.flush()
    frozen = advice.freeze(session, shipment, clock)
    audit.record(
        session,
        actor=actor,
        action="shipment.despatched",
        entity_type=RECORD_TYPE,
        entity_id=shipment.id,
        after={"despatch_advice_sha256": frozen.sha256, **json.loads(frozen.content)},
        clock=clock,
    )
    idempotency.remember(
        session, key=key, form="despatch", user=actor, result=f"shipment:{shipment.id}", clock=clock
    )
    return shipment, False
