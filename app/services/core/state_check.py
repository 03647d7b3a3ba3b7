"""Does each governed record's state agree with its evidence? (issue 9 point 8)

A record's status is only ever changed by a service that writes an audit event with the new
status (and, for a QC decision or an approval, a signature). Someone writing to the database
behind the app's back (`UPDATE lot SET status = 'released'`) leaves the hash chain intact and
every signature valid, but the state then differs from what the trail replays to. This check
replays the trail and names every such record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from app.models import AuditEvent, Batch, Lot, RecipeRevision, Shipment, Signature

# How the installer's go-live paths say a status came from paper (no signature to be had):
# a revision approved outside the system, opening stock with its paper QC status.
PAPER_EVIDENCE = ("Approved outside the system", "Opening stock at go-live, status from paper")


@dataclass(frozen=True)
class Governed:
    """A kind of record whose status is governed: how to name it and what evidence it needs."""

    entity_type: str
    model: type[Any]
    name: Callable[[Any], str]
    initial: str  # its status when created, if its creation event does not say
    # status -> the signature meanings, any one of which must exist for the record
    signed_by: dict[str, tuple[str, ...]] = field(default_factory=dict)


GOVERNED = (
    Governed(
        "lot",
        Lot,
        lambda r: f"lot {r.lot_code}",
        "quarantine",
        {"released": ("released",), "rejected": ("rejected",)},
    ),
    Governed(
        "mbr_revision",
        RecipeRevision,
        lambda r: f"master record revision #{r.id} ({r.revision})",
        "draft",
        {"effective": ("approved",)},
    ),
    Governed("batch", Batch, lambda r: f"batch {r.batch_no}", "planned"),
    Governed("shipment", Shipment, lambda r: f"shipment {r.shipment_no}", "picking"),
)


@dataclass(frozen=True)
class Disagreement:
    record: str
    problem: str


def _replayed(session: Session, entity_type: str) -> dict[str, tuple[str, AuditEvent]]:
    """entity id -> (the status its last status-setting event gave it, that event)."""
    states: dict[str, tuple[str, AuditEvent]] = {}
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, col(AuditEvent.after).contains('"status"'))
        .order_by(col(AuditEvent.id))
        .execution_options(yield_per=1000)
    )
    for event in events:
        after = json.loads(event.after or "{}")
        if isinstance(after, dict) and isinstance(after.get("status"), str):
            states[event.entity_id] = (after["status"], event)
    return states


def _signed(session: Session, entity_type: str) -> set[tuple[str, str]]:
    return {
        (record_id, meaning)
        for record_id, meaning in session.exec(
            select(Signature.record_id, Signature.meaning).where(
                Signature.record_type == entity_type
            )
        )
    }


def disagreements(session: Session) -> list[Disagreement]:
    """Every governed record whose current status is not what its audit trail and signatures
    say it should be."""
    found: list[Disagreement] = []
    for kind in GOVERNED:
        replayed = _replayed(session, kind.entity_type)
        signed = _signed(session, kind.entity_type) if kind.signed_by else set()
        for row in session.exec(select(kind.model).order_by(kind.model.id)):
            record_id = str(row.id)
            expected, event = replayed.get(record_id, (kind.initial, None))
            meanings = {m for r, m in signed if r == record_id}
            problem = _judge(kind, row, expected, event, meanings)
            if problem is not None:
                found.append(Disagreement(kind.name(row), problem))
    return found


def evidence_problem(session: Session, entity_type: str, row: Any) -> str | None:
    """For one governed record about to be relied on (a lot issued or shipped): why its status
    does not stand on its evidence, or None."""
    kind = next(k for k in GOVERNED if k.entity_type == entity_type)
    last = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.entity_type == entity_type,
            AuditEvent.entity_id == str(row.id),
            col(AuditEvent.after).contains('"status"'),
        )
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).first()
    after = json.loads(last.after or "{}") if last is not None else {}
    expected = after.get("status", kind.initial) if isinstance(after, dict) else kind.initial
    meanings = set(
        session.exec(
            select(Signature.meaning).where(
                Signature.record_type == entity_type, Signature.record_id == str(row.id)
            )
        )
    )
    return _judge(kind, row, expected, last, meanings)


def _judge(
    kind: Governed, row: Any, expected: str, event: AuditEvent | None, meanings: set[str]
) -> str | None:
    if row.status != expected:
        source = f"event #{event.id}" if event is not None else "its creation"
        return (
            f"its status is '{row.status}', but the audit trail ({source}) leaves it "
            f"'{expected}': changed behind the app's back"
        )
    needed = kind.signed_by.get(row.status)
    paper = event is not None and (event.reason or "").startswith(PAPER_EVIDENCE)
    if needed and not paper and not meanings.intersection(needed):
        return f"it is '{row.status}' without a {' or '.join(repr(m) for m in needed)} signature"
    return None
