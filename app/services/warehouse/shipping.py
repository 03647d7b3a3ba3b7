"""Shipping released lots to a customer.

A shipment is picked by scanning lot labels, then despatched in one step that writes the
shipment movements and freezes the despatch advice as sent. Shipping never makes a new
traceability lot code (21 CFR 1.1320): a lot ships under the TLC it was received with, or the
one its batch assigned. Only released lots, unexpired on the plant's date, with enough stock
ship; a food on the Food Traceability List ships only with its TLC.
"""

from __future__ import annotations

import json
from decimal import Decimal

from sqlmodel import Session, col, func, select

from app.models import (
    InventoryMovement,
    Lot,
    Material,
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
from app.services.core.errors import NotFound, Rejected, Violation, require
from app.services.core.text import max_length, read_reason, read_text
from app.services.masterdata import parties
from app.services.trace import despatch_advice as advice
from app.services.warehouse import issuing, ledger

RECORD_TYPE = "shipment"


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
    require_role(actor, *ledger.WAREHOUSE, action="ship")
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


def _traceability_problems(session: Session, lot: Lot) -> list[Violation]:
    """An FTL food ships with its TLC (1.1340(a)(1)); it is never made up at the dock."""
    material = session.get(Material, lot.material_id)
    if material is not None and material.on_traceability_list and not lot.tlc:
        return [
            Violation(
                "lot.tlc",
                f"Lot {lot.lot_code} is a food on the Food Traceability List but has no "
                "traceability lot code; it cannot ship without one.",
            )
        ]
    return []


def _picking(shipment: Shipment) -> None:
    if shipment.status != ShipmentStatus.PICKING:
        raise Rejected(
            [Violation("shipment.shipped", f"Shipment {shipment.shipment_no} has already shipped.")]
        )


def add_line(
    session: Session,
    *,
    actor: User,
    shipment_no: str,
    scanned: str,
    quantity: str,
    key: str,
    clock: Clock,
) -> tuple[ShipmentLine, bool]:
    """Pick a lot onto the shipment by scanning its label. Returns the line and whether this
    form had been submitted before (a double tap picks once).

    Raises:
        PermissionDenied, NotFound. Rejected: shipped already, unknown lot, a bad quantity.
        GateViolation: the lot is not released, is expired, or has not enough stock left
        (counting what is already picked onto this shipment).
    """
    require_role(actor, *ledger.WAREHOUSE, action="ship")
    now = clock.now()
    earlier = idempotency.first_result(session, key, ShipmentLine)
    if earlier is not None:
        return earlier, True
    shipment = get_shipment(session, shipment_no)
    _picking(shipment)
    problems: list[Violation] = []
    amount = quantities.parse_quantity(quantity, problems)
    lot = ledger.lot_from_scan(session, scanned, field="scan")
    require(problems)
    assert amount is not None
    gates = issuing.gate_problems(session, lot, clock.today())
    gates += _traceability_problems(session, lot)
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
    line = ShipmentLine(
        shipment_id=shipment.id,  # type: ignore[arg-type]
        lot_id=lot.id,  # type: ignore[arg-type]
        quantity=amount,
        unit=lot.unit,
        scanned=scanned.strip()[:200],
        added_at=now,
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
        clock=clock,
    )
    return line, False


def remove_line(session: Session, *, actor: User, line_id: int, reason: str, clock: Clock) -> None:
    """Take a mis-picked line off a shipment before despatch (kept, marked, with a reason).

    Raises:
        PermissionDenied, NotFound, Rejected.
    """
    require_role(actor, *ledger.WAREHOUSE, action="ship")
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
    require_role(actor, *ledger.WAREHOUSE, action="ship")
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
    gates: list[Violation] = []
    wanted: dict[int, Decimal] = {}
    for line, lot, _ in picked:
        wanted[lot.id] = wanted.get(lot.id, Decimal(0)) + line.quantity  # type: ignore[arg-type, index]
    for lot_id, amount in wanted.items():
        lot = ledger.lock_lot(session, lot_id)
        gates += issuing.gate_problems(session, lot, clock.today())
        gates += _traceability_problems(session, lot)
        stock = ledger.balance(session, lot_id)
        if amount > stock:
            gates.append(
                Violation(
                    "lot.balance",
                    f"Lot {lot.lot_code} has only {quantities.shown(stock, lot.unit)} left; "
                    f"{quantities.shown(amount, lot.unit)} cannot ship.",
                )
            )
    require(gates, gate=True)
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
