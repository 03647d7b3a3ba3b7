"""Lot labels: the GS1-128 label of a lot, and its audited prints and reprints."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from app.models import (
    AuditEvent,
    User,
)
from app.services.core import audit, gs1
from app.services.core.clock import Clock
from app.services.core.errors import Rejected, Violation, require
from app.services.core.text import read_reason
from app.services.warehouse.ledger import RECORD_TYPE, LotView, get_lot, load_lot


def label(session: Session, lot_code: str) -> tuple[LotView, gs1.LotLabel]:
    view = load_lot(session, lot_code)
    data = gs1.lot_label(
        gtin=view.material.gtin or view.lot.gtin, lot_code=view.lot.lot_code, expiry=view.lot.expiry
    )
    return view, data


def record_label_print(
    session: Session, *, actor: User, lot_code: str, reprint_reason: str = "",
    clock: Clock,
) -> None:  # fmt: skip
    """Audit that a lot label was printed; a reprint needs a reason.

    Raises:
        NotFound, Rejected (reprint without reason).
    """
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
    problems: list[Violation] = []
    reprint_reason = read_reason(reprint_reason, problems, required=False)
    require(problems)
    if printed_before and not reprint_reason:
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
        reason=reprint_reason or None,
        clock=clock,
    )
