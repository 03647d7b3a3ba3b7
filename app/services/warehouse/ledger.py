"""The stock ledger: lots, their movements and balances. A lot's balance is the sum of its
movements and never goes below zero (writers lock the lot row first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from app.models import (
    AdjustmentStatus,
    AuditEvent,
    Batch,
    InventoryMovement,
    Lot,
    LotStatus,
    Material,
    MovementKind,
    Party,
    Role,
    StockAdjustment,
    User,
)
from app.services.core import gs1
from app.services.core.errors import NotFound, Rejected, Violation, require
from app.services.core.text import read_text

RECORD_TYPE = "lot"


WAREHOUSE = (Role.WAREHOUSE, Role.ADMIN)


def get_lot(session: Session, lot_code: str) -> Lot:
    """Raises NotFound."""
    lot = session.exec(select(Lot).where(Lot.lot_code == lot_code.strip().upper())).first()
    if lot is None:
        raise NotFound(f"There is no lot {lot_code.strip()!r}.")
    return lot


def lot_by_id(session: Session, lot_id: int) -> Lot:
    """Raises NotFound."""
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(f"There is no lot number {lot_id}.")
    return lot


SCAN_LIMIT = 200  # the longest scan kept (a GS1 DataMatrix with several AIs fits)


def lot_from_scan(
    session: Session, scanned: str, *, field: str = "lot", empty: str = "Scan the lot label."
) -> Lot:
    """The lot a scan names, for every field that takes a lot: our own GS1 lot label (with or
    without a symbology prefix such as ]C1, as HRI with brackets, or a GS1 Digital Link) or the
    lot code typed. Refusals carry `field`, so the message sits beside the field scanned into.

    Raises:
        Rejected: nothing scanned, not readable, a pallet SSCC or a barcode without a lot, or
            no such lot.
    """
    problems: list[Violation] = []
    text = read_text(
        scanned.replace(gs1.GS, "<GS>"),
        field=field,
        label="scan",
        problems=problems,
        limit=SCAN_LIMIT,
        required=True,
        empty=empty,
    ).replace("<GS>", gs1.GS)
    require(problems)
    if text[:1].isdigit() or text.startswith(("]", "(")) or gs1.is_web_address(text):
        try:
            scan = gs1.parse_scan(text)
        except Rejected as exc:
            raise Rejected([Violation(v.code, v.message, field) for v in exc.violations]) from None
        if scan.sscc and not scan.lot:
            raise Rejected(
                [
                    Violation(
                        "scan.sscc",
                        f"Pallet SSCC {scan.sscc} is not recorded here; scan each lot label.",
                        field,
                    )
                ]
            )
        if not scan.lot:
            raise Rejected(
                [
                    Violation(
                        "scan.no_lot",
                        "This barcode carries no lot (10); scan the lot label.",
                        field,
                    )
                ]
            )
        text = scan.lot
    try:
        return get_lot(session, text)
    except NotFound as exc:
        raise Rejected([Violation("scan.unknown", exc.message, field)]) from None


def balance(session: Session, lot_id: int) -> Decimal:
    rows = session.exec(
        select(col(InventoryMovement.quantity)).where(InventoryMovement.lot_id == lot_id)
    )
    return sum(rows, Decimal(0))


def balances(session: Session, lot_ids: list[int]) -> dict[int, Decimal]:
    """The balance of each lot in one query, by lot id (zero for a lot without movements).
    Summed here, not in SQL: quantities are stored as exact decimal text."""
    found = {lot_id: Decimal(0) for lot_id in lot_ids}
    if lot_ids:
        rows = session.exec(
            select(col(InventoryMovement.lot_id), col(InventoryMovement.quantity)).where(
                col(InventoryMovement.lot_id).in_(lot_ids)
            )
        )
        for lot_id, quantity in rows:
            found[lot_id] += quantity
    return found


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
    batch_numbers: dict[int, str]  # batch id -> batch number, for the batches its movements name
    tlc_source: Party | None = None  # FSMA 204: where the lot's TLC was assigned

    def batch_of(self, movement: InventoryMovement) -> str | None:
        return self.batch_numbers.get(movement.batch_id) if movement.batch_id else None

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
            batch_no = self.batch_of(m)
            if m.kind in (MovementKind.ISSUE, MovementKind.RETURN) and batch_no:
                used[batch_no] = used.get(batch_no, Decimal(0)) - m.quantity
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
    ledger = movements(session, lot.id)  # type: ignore[arg-type]
    batch_ids = {m.batch_id for m in ledger if m.batch_id}
    named = session.exec(select(Batch.id, Batch.batch_no).where(col(Batch.id).in_(batch_ids)))
    return LotView(
        lot,
        material,
        session.get(Party, lot.supplier_id) if lot.supplier_id else None,
        sum((m.quantity for m in ledger), Decimal(0)),
        ledger,
        history,
        dict(named.all()),  # type: ignore[arg-type]
        session.get(Party, lot.tlc_source_id) if lot.tlc_source_id else None,
    )


def may_move_stock(user: User) -> bool:
    """Whether `user` may receive, issue, return and ship stock: the rule those services
    enforce with `WAREHOUSE` (for showing only the controls that will work)."""
    return user.active and user.has_role(*WAREHOUSE)


def list_lots(
    session: Session,
    *,
    search: str = "",
    status: LotStatus | None = None,
    count_waiting: bool = False,
) -> list[tuple[Lot, Material]]:
    """Lots, newest first: matching `search`, in `status`, or with a stock count waiting for
    QA's approval, as asked."""
    query = (
        select(Lot, Material)
        .join(Material, col(Material.id) == Lot.material_id)
        .order_by(col(Lot.received_at).desc())
    )
    if status is not None:
        query = query.where(Lot.status == status.value)
    if count_waiting:
        query = query.where(
            col(Lot.id).in_(
                select(StockAdjustment.lot_id).where(
                    StockAdjustment.status == AdjustmentStatus.PROPOSED.value
                )
            )
        )
    if search.strip():
        like = f"%{search.strip().lower()}%"
        query = query.where(
            col(Lot.lot_code).ilike(like)
            | col(Lot.supplier_lot).ilike(like)
            | col(Material.code).ilike(like)
        )
    return list(session.exec(query).all())


def lock_lot(session: Session, lot_id: int) -> Lot:
    """The lot row, locked for this transaction (PostgreSQL); SQLite serialises writers."""
    lot = session.exec(select(Lot).where(Lot.id == lot_id).with_for_update()).one()
    session.refresh(lot)
    return lot
