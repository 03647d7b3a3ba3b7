"""Lot labels: a label exists only as an audited print (a reprint needs a reason), carries the
status it was printed with, and goes out of date when the lot's status changes after printing.
A lot received in N containers prints N labels at once, "1 of N" to "N of N", under one print
record; each carries the lot's own GS1-128 (the container number is words on the label, not a
barcode of its own). Anyone may look at a preview, which is marked as one and carries no
barcode."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.models import AuditEvent, Lot, Role, User
from app.services.core import audit, gs1
from app.services.core.actors import require_role
from app.services.core.clock import Clock
from app.services.core.errors import Rejected, Violation, require
from app.services.core.text import read_reason
from app.services.warehouse.ledger import RECORD_TYPE, LotView, load_lot, lock_lot

# Who prints lot labels: the warehouse that puts them on containers, and QA (status labels).
PRINTERS = (Role.WAREHOUSE, Role.QA, Role.ADMIN)
PRINTS = ("lot.label_printed", "lot.label_reprinted")


def may_print(user: User) -> bool:
    return user.active and user.has_role(*PRINTERS)


def preview(session: Session, lot_code: str) -> LotView:
    """What a label of the lot would say now: no barcode, nothing recorded."""
    return load_lot(session, lot_code)


@dataclass(frozen=True)
class PrintedLabel:
    view: LotView
    data: gs1.LotLabel
    status: str  # the status printed on it
    reprint: bool
    count: int  # labels printed: one per container


@dataclass(frozen=True)
class LabelState:
    """What the lot page's label section offers a user: the same rules print_label enforces."""

    may_print: bool
    reprint: bool  # printed before: a print now is a reprint and needs a reason
    out_of_date: str | None  # the status the containers' labels show, when no longer the lot's


def last_print(session: Session, lot: Lot) -> AuditEvent | None:
    return session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.entity_type == RECORD_TYPE,
            AuditEvent.entity_id == str(lot.id),
            col(AuditEvent.action).in_(PRINTS),
        )
        .order_by(col(AuditEvent.id).desc())
    ).first()


def out_of_date(session: Session, lot: Lot) -> str | None:
    """The status the lot's last label shows, when it is no longer the lot's status (the
    label on the containers is wrong: reprint it); None when it is current or never printed."""
    return _stale(lot, last_print(session, lot))


def _stale(lot: Lot, printed: AuditEvent | None) -> str | None:
    shown = json.loads(printed.after or "{}").get("status") if printed else None
    return shown if shown is not None and shown != lot.status else None


def label_state(session: Session, lot: Lot, user: User) -> LabelState:
    """Whether `user` may print the lot's labels, whether that would be a reprint (which asks
    for a reason), and whether the labels on its containers are out of date."""
    printed = last_print(session, lot)
    return LabelState(may_print(user), printed is not None, _stale(lot, printed))


def print_label(
    session: Session, *, actor: User, lot_code: str, reprint_reason: str = "", clock: Clock
) -> PrintedLabel:
    """Record the print of the lot's labels, one per container (a reprint needs a reason), and
    return what to print.

    Raises:
        PermissionDenied: not warehouse, QA or admin. NotFound. Rejected: a reprint without a
        reason.
    """
    require_role(actor, *PRINTERS, action="print lot labels")
    view = load_lot(session, lot_code)
    lot = lock_lot(session, view.lot.id)  # type: ignore[arg-type]
    last = last_print(session, lot)
    printed_before = last is not None
    problems: list[Violation] = []
    reprint_reason = read_reason(reprint_reason, problems, required=False)
    require(problems)
    if printed_before and not reprint_reason:
        stale = _stale(lot, last)
        hint = f" (its label says {stale.replace('_', ' ')})" if stale else ""
        raise Rejected(
            [
                Violation(
                    "reason.empty",
                    f"This label was printed before{hint}: give a reason for the reprint.",
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
        after={
            "lot_code": lot.lot_code,
            "status": lot.status,
            "expiry": lot.expiry,
            "labels": lot.containers,
        },
        reason=reprint_reason or None,
        clock=clock,
    )
    data = gs1.lot_label(
        gtin=view.material.gtin or lot.gtin, lot_code=lot.lot_code, expiry=lot.expiry
    )
    return PrintedLabel(view, data, lot.status, printed_before, lot.containers)
