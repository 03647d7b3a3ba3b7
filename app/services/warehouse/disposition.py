"""QC disposition of a lot by signature: release, reject, hold, lift a hold."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.models import (
    Lot,
    LotStatus,
    Material,
    Meaning,
    Role,
    Signature,
    User,
)
from app.services.core import audit
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, Violation
from app.services.esign import signable
from app.services.quality import qc
from app.services.warehouse.ledger import RECORD_TYPE, lock_lot

# Which QC decision may follow which status, and the status it leads to.
DISPOSITIONS: dict[Meaning, tuple[frozenset[LotStatus], LotStatus | None]] = {
    Meaning.RELEASED: (frozenset({LotStatus.QUARANTINE}), LotStatus.RELEASED),
    Meaning.REJECTED: (frozenset({LotStatus.QUARANTINE, LotStatus.ON_HOLD}), LotStatus.REJECTED),
    Meaning.HELD: (frozenset({LotStatus.QUARANTINE, LotStatus.RELEASED}), LotStatus.ON_HOLD),
    Meaning.HOLD_LIFTED: (frozenset({LotStatus.ON_HOLD}), None),  # back to what it was
}


# Who decides on a lot: the meanings of its signatures are QA's.
DECIDERS = frozenset({Role.QA})


def may_decide(user: User) -> bool:
    """Whether `user` may sign QC decisions on lots (the role the lot's meanings require)."""
    return user.active and user.has_role(*DECIDERS)


def lots_to_decide(session: Session, user: User) -> dict[LotStatus, list[str]]:
    """The lot codes that wait for `user`'s QC decision, oldest first, in one query: in
    quarantine, unless they received it (whoever received a lot does not release it), and on
    hold (to lift the hold or reject)."""
    return {
        status: [lot.lot_code for lot in lots] for status, lots in _waiting(session, user).items()
    }


def next_to_decide(session: Session, user: User, after: Lot) -> str | None:
    """The lot to go to once `after` is decided: the next one waiting in quarantine for `user`
    received after it, else the oldest one waiting (None when none waits)."""
    waiting = [lot for lot in _waiting(session, user)[LotStatus.QUARANTINE] if lot.id != after.id]
    later = [lot for lot in waiting if (lot.received_at, lot.id) > (after.received_at, after.id)]
    chosen = later or waiting
    return chosen[0].lot_code if chosen else None


def _waiting(session: Session, user: User) -> dict[LotStatus, list[Lot]]:
    waiting: dict[LotStatus, list[Lot]] = {LotStatus.QUARANTINE: [], LotStatus.ON_HOLD: []}
    for lot in session.exec(
        select(Lot)
        .where(col(Lot.status).in_([s.value for s in waiting]))
        .order_by(col(Lot.received_at), col(Lot.id))
    ):
        status = LotStatus(lot.status)
        if status == LotStatus.ON_HOLD or qc.receiver_refusal(lot, user, "release") is None:
            waiting[status].append(lot)
    return waiting


def _disposition_rules(lot_id: int) -> signable.Rules:
    def rules(session: Session, signer: User, meaning: Meaning, clock: Clock) -> list[Violation]:
        lot = session.get(Lot, lot_id)
        assert lot is not None
        allowed_from, _ = DISPOSITIONS[meaning]
        if LotStatus(lot.status) not in allowed_from:
            status = LotStatus(lot.status).label.lower()
            since = _decided(session, lot, clock)
            return [
                Violation(
                    "lot.status",
                    f"Lot {lot.lot_code} is {status}{since}: it cannot be “{meaning.label}” now.",
                )
            ]
        if meaning == Meaning.RELEASED:
            refusal = qc.receiver_refusal(lot, signer, "release")
            return ([refusal] if refusal else []) + qc.release_problems(session, lot)
        return []

    return rules


def _decided(session: Session, lot: Lot, clock: Clock) -> str:
    """ " (signed by Quinn Adeyemi at 14:02 CET — reload the page)": who made the lot what it
    is now, in plant time, for the person whose decision just lost the race."""
    last = session.exec(
        select(Signature)
        .where(Signature.record_type == RECORD_TYPE, Signature.record_id == str(lot.id))
        .order_by(col(Signature.id).desc())
    ).first()
    if last is None:
        return ""
    when = f"{clock.local(last.signed_at):%H:%M %Z}"
    return f" (signed by {last.printed_name} at {when} — reload the page)"


def _after_disposition(session: Session, signature: Signature, clock: Clock) -> None:
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
        clock=clock,
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
        state={"status": lot.status},
        meanings=dict.fromkeys(DISPOSITIONS, DECIDERS),
        rules=_disposition_rules(lot.id),  # type: ignore[arg-type]
        lock=lambda s: lock_lot(s, lot.id),  # type: ignore[arg-type]
        after_signing=_after_disposition,
        changes_page=True,
    )
