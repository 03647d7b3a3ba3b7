"""Corrections, never edits: a wrong receipt fact (expiry, supplier's lot, received quantity) is
superseded with a reason while the lot waits for QC, the old value kept; a stock count that
differs from the book is proposed by the warehouse and reaches the ledger only when QA approves
it by signature."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from app.models import (
    AdjustmentStatus,
    InventoryMovement,
    Lot,
    LotCorrection,
    LotStatus,
    Material,
    Meaning,
    MovementKind,
    Role,
    Signature,
    StockAdjustment,
    User,
)
from app.services.core import audit
from app.services.core.actors import require_role
from app.services.core.clock import Clock
from app.services.core.dates import too_far_ahead
from app.services.core.errors import NotFound, Violation, require
from app.services.core.quantities import read_number, record_id, shown
from app.services.core.text import max_length, read_reason, read_text
from app.services.esign import signable
from app.services.warehouse.ledger import RECORD_TYPE, WAREHOUSE, balance, get_lot, lock_lot

CORRECTORS = (*WAREHOUSE, Role.QA)
APPROVERS = frozenset({Role.QA})  # who approves a stock count by signature
FIELDS = {
    "expiry": "expiry date",
    "supplier_lot": "supplier's lot number",
    "quantity": "received quantity",
}
ADJUSTMENT_TYPE = "stock_adjustment"


def received_quantity(session: Session, lot: Lot) -> Decimal:
    """What the receipt says now: the receipt movements plus their corrections."""
    rows = session.exec(select(InventoryMovement).where(InventoryMovement.lot_id == lot.id)).all()
    corrected = {
        c.movement_id
        for c in session.exec(select(LotCorrection).where(LotCorrection.lot_id == lot.id))
    }
    return sum(
        (m.quantity for m in rows if m.kind == MovementKind.RECEIPT or m.id in corrected),
        Decimal(0),
    )


def corrections_of(session: Session, lot_id: int) -> list[LotCorrection]:
    return list(
        session.exec(
            select(LotCorrection)
            .where(LotCorrection.lot_id == lot_id)
            .order_by(col(LotCorrection.id))
        )
    )


def _open_for_correction(session: Session, lot: Lot) -> bool:
    """In quarantine with no QC signature on it (a signature covers the receipt facts)."""
    signed = session.exec(
        select(Signature.id).where(
            Signature.record_type == RECORD_TYPE, Signature.record_id == str(lot.id)
        )
    ).first()
    return LotStatus(lot.status) == LotStatus.QUARANTINE and signed is None


def may_correct(session: Session, lot: Lot, user: User) -> bool:
    """Whether to offer `user` the correction form: the rules `correct_receipt` enforces."""
    return user.active and user.has_role(*CORRECTORS) and _open_for_correction(session, lot)


def correct_receipt(
    session: Session, *, actor: User, lot_code: str, field: str, value: str, reason: str,
    clock: Clock,
) -> LotCorrection:  # fmt: skip
    """Supersede one receipt fact with a reason. The quantity is corrected by an adjustment
    movement of the difference (the ledger is never rewritten).

    Raises:
        PermissionDenied: not warehouse, QA or admin. NotFound. Rejected: QC has decided on
        the lot, an unknown field, a bad value, no change, no reason, stock already used.
    """
    require_role(actor, *CORRECTORS, action="correct a receipt")
    lot = lock_lot(session, get_lot(session, lot_code).id)  # type: ignore[arg-type]
    problems: list[Violation] = []
    reason = read_reason(reason, problems)
    if not _open_for_correction(session, lot):
        # A QC signature covers the receipt facts: correcting them would void it.
        problems.append(
            Violation(
                "lot.decided",
                f"QA has signed a decision on lot {lot.lot_code} as received, so its receipt "
                "can no longer be corrected. Ask QA to put the lot on hold and investigate.",
            )
        )
    if field not in FIELDS:
        raise NotFound("Choose what to correct: expiry date, supplier's lot or quantity.")
    old: str
    new: str
    if field == "expiry":
        old = lot.expiry.isoformat() if lot.expiry else ""
        try:
            expiry = date.fromisoformat(value.strip())
        except ValueError:
            expiry = None
            problems.append(
                Violation("value.date", "Enter the expiry date as YYYY-MM-DD.", "value")
            )
        if expiry is not None:
            too_far_ahead(expiry, today=clock.today(), field="value", label="expiry date",
                          problems=problems)  # fmt: skip
        new = expiry.isoformat() if expiry else ""
    elif field == "supplier_lot":
        old = lot.supplier_lot
        new = read_text(
            value, field="value", label="supplier's lot number", problems=problems,
            limit=max_length(Lot, "supplier_lot"), required=True, code=True,
        )  # fmt: skip
    else:
        old_quantity = received_quantity(session, lot)
        quantity = read_number(value, field="value", label="received quantity",
                               problems=problems, unit=lot.unit)  # fmt: skip
        old, new = str(old_quantity), str(quantity) if quantity is not None else ""
        if quantity is not None and balance(session, lot.id) + quantity - old_quantity < 0:  # type: ignore[arg-type]
            problems.append(
                Violation(
                    "value.used",
                    f"More than {shown(quantity, lot.unit)} has left lot {lot.lot_code} already; "
                    "count the stock instead.",
                    "value",
                )
            )
    if new and new == old:
        problems.append(Violation("value.same", f"The {FIELDS[field]} is {old} already.", "value"))
    require(problems)
    movement = None
    if field == "quantity":
        movement = InventoryMovement(
            lot_id=lot.id,  # type: ignore[arg-type]
            kind=MovementKind.ADJUSTMENT.value,
            quantity=Decimal(new) - Decimal(old),
            unit=lot.unit,
            reference="Receipt quantity corrected",
            reason=reason,
            at=clock.now(),
            by_id=actor.id,  # type: ignore[arg-type]
        )
        session.add(movement)
        session.flush()
    elif field == "expiry":
        lot.expiry = date.fromisoformat(new)
    else:
        lot.supplier_lot = new
    session.add(lot)
    correction = LotCorrection(
        lot_id=lot.id,  # type: ignore[arg-type]
        field=field,
        old_value=old,
        new_value=new,
        reason=reason,
        movement_id=movement.id if movement else None,
        corrected_at=clock.now(),
        corrected_by_id=actor.id,  # type: ignore[arg-type]
    )
    session.add(correction)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="lot.receipt_corrected",
        entity_type=RECORD_TYPE,
        entity_id=lot.id,
        before={field: old},
        after={field: new, "correction_id": correction.id},
        reason=reason,
        clock=clock,
    )
    return correction


def open_adjustment(session: Session, lot_id: int) -> StockAdjustment | None:
    return session.exec(
        select(StockAdjustment).where(
            StockAdjustment.lot_id == lot_id,
            StockAdjustment.status == AdjustmentStatus.PROPOSED.value,
        )
    ).first()


def propose_adjustment(
    session: Session, *, actor: User, lot_code: str, counted: str, reason: str, clock: Clock
) -> StockAdjustment:
    """A counted quantity that differs from the book, with the reason, for QA to approve.

    Raises:
        PermissionDenied: not warehouse or admin. NotFound. Rejected: a bad count, the count
        matches the book, no reason, a count already waiting for QA.
    """
    require_role(actor, *WAREHOUSE, action="propose stock adjustments")
    lot = lock_lot(session, get_lot(session, lot_code).id)  # type: ignore[arg-type]
    problems: list[Violation] = []
    quantity = read_number(counted, field="counted", label="counted quantity", problems=problems,
                           positive=False, unit=lot.unit)  # fmt: skip
    reason = read_reason(reason, problems)
    book = balance(session, lot.id)  # type: ignore[arg-type]
    if quantity is not None and quantity == book:
        problems.append(
            Violation(
                "counted.same",
                f"The count matches the book ({shown(book, lot.unit)}): nothing to adjust.",
                "counted",
            )
        )
    if open_adjustment(session, lot.id) is not None:  # type: ignore[arg-type]
        problems.append(
            Violation(
                "adjustment.open",
                f"A count of lot {lot.lot_code} is waiting for QA's approval already.",
                "counted",
            )
        )
    require(problems)
    assert quantity is not None
    adjustment = StockAdjustment(
        lot_id=lot.id,  # type: ignore[arg-type]
        counted=quantity,
        book=book,
        unit=lot.unit,
        reason=reason,
        proposed_at=clock.now(),
        proposed_by_id=actor.id,  # type: ignore[arg-type]
    )
    session.add(adjustment)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="lot.adjustment_proposed",
        entity_type=RECORD_TYPE,
        entity_id=lot.id,
        after={"adjustment_id": adjustment.id, "counted": quantity, "book": book,
               "unit": lot.unit},
        reason=reason,
        clock=clock,
    )  # fmt: skip
    return adjustment


def may_approve_counts(user: User) -> bool:
    """Whether `user` may approve stock counts (the role the adjustment's signature requires)."""
    return user.active and user.has_role(*APPROVERS)


def counts_to_approve(session: Session, user: User) -> list[str]:
    """The codes of the lots whose stock count waits for `user`'s approval, oldest count first,
    in one query: proposed, and counted by someone else (nobody approves their own count)."""
    return list(
        session.exec(
            select(Lot.lot_code)
            .join(StockAdjustment, col(StockAdjustment.lot_id) == Lot.id)
            .where(
                StockAdjustment.status == AdjustmentStatus.PROPOSED.value,
                StockAdjustment.proposed_by_id != user.id,
            )
            .order_by(col(StockAdjustment.id))
        )
    )


def _adjustment_rules(adjustment_id: int) -> signable.Rules:
    def rules(session: Session, signer: User, meaning: Meaning, clock: Clock) -> list[Violation]:
        adjustment = session.get(StockAdjustment, adjustment_id)
        assert adjustment is not None
        lot = session.get(Lot, adjustment.lot_id)
        assert lot is not None
        if adjustment.status != AdjustmentStatus.PROPOSED:
            return [Violation("adjustment.decided", "This count has been approved already.")]
        if signer.id == adjustment.proposed_by_id:
            return [
                Violation(
                    "adjustment.own",
                    "You counted this stock: a QA person other than you approves the adjustment.",
                )
            ]
        now = balance(session, lot.id)  # type: ignore[arg-type]
        if now != adjustment.book:
            return [
                Violation(
                    "adjustment.moved",
                    f"Lot {lot.lot_code} moved since the count (book {shown(adjustment.book)} "
                    f"then, {shown(now)} now): count it again.",
                )
            ]
        return []

    return rules


def _after_approval(session: Session, signature: Signature, clock: Clock) -> None:
    adjustment = session.get(StockAdjustment, int(signature.record_id))
    assert adjustment is not None
    movement = InventoryMovement(
        lot_id=adjustment.lot_id,
        kind=MovementKind.ADJUSTMENT.value,
        quantity=adjustment.counted - adjustment.book,
        unit=adjustment.unit,
        reference=f"Stock count approved by signature {signature.id}",
        reason=adjustment.reason,
        at=clock.now(),
        by_id=signature.signer_id,
    )
    session.add(movement)
    session.flush()
    adjustment.status = AdjustmentStatus.APPROVED.value
    adjustment.movement_id = movement.id
    session.add(adjustment)
    session.flush()
    audit.record(
        session,
        actor=session.get(User, signature.signer_id),
        action="lot.adjusted",
        entity_type=RECORD_TYPE,
        entity_id=adjustment.lot_id,
        before={"balance": adjustment.book},
        after={"balance": adjustment.counted, "adjustment_id": adjustment.id,
               "signature_id": signature.id},
        reason=adjustment.reason,
        clock=clock,
    )  # fmt: skip


@signable.register(ADJUSTMENT_TYPE)
def _load_adjustment(session: Session, raw_id: str) -> signable.Signable:
    wanted = record_id(raw_id)
    adjustment = session.get(StockAdjustment, wanted) if wanted else None
    if adjustment is None:
        raise NotFound(f"There is no stock adjustment {raw_id!r}.")
    lot = session.get(Lot, adjustment.lot_id)
    assert lot is not None
    material = session.get(Material, lot.material_id)
    assert material is not None
    difference = adjustment.counted - adjustment.book
    return signable.Signable(
        record_type=ADJUSTMENT_TYPE,
        record_id=str(adjustment.id),
        title=f"stock count of lot {lot.lot_code} ({material.code}): counted "
        f"{shown(adjustment.counted, lot.unit)}, book {shown(adjustment.book, lot.unit)}, "
        f"adjust by {'+' if difference > 0 else ''}{shown(difference, lot.unit)} — "
        f"{adjustment.reason}",
        content={
            "lot_code": lot.lot_code,
            "counted": adjustment.counted,
            "book": adjustment.book,
            "unit": adjustment.unit,
            "reason": adjustment.reason,
            "proposed_by_id": adjustment.proposed_by_id,
            "proposed_at": adjustment.proposed_at,
        },
        state={"status": adjustment.status},
        meanings={Meaning.APPROVED: APPROVERS},
        rules=_adjustment_rules(adjustment.id),  # type: ignore[arg-type]
        lock=lambda s: lock_lot(s, lot.id),  # type: ignore[arg-type]
        after_signing=_after_approval,
        changes_page=True,
    )


@dataclass
class LotAdjustments:
    open: StockAdjustment | None
    approved: list[StockAdjustment]


def adjustments_of(session: Session, lot_id: int) -> LotAdjustments:
    rows = list(
        session.exec(
            select(StockAdjustment)
            .where(StockAdjustment.lot_id == lot_id)
            .order_by(col(StockAdjustment.id))
        )
    )
    return LotAdjustments(
        next((a for a in rows if a.status == AdjustmentStatus.PROPOSED), None),
        [a for a in rows if a.status == AdjustmentStatus.APPROVED],
    )
