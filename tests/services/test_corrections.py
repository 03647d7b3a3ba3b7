"""Corrections, never edits (issue 11 point 5): a wrong receipt is superseded with a reason while
the lot waits for QC (the old value kept and audited); a stock count that differs from the book
moves the ledger only when a QA person other than the counter approves it by signature."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from app.models import AuditEvent, InventoryMovement, Lot, User
from app.services.accounts.auth import find_user
from app.services.core.errors import PermissionDenied, Rejected
from app.services.demo import seed_demo
from app.services.warehouse import corrections, ledger, receipt
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM
from tests.signing import Signer, sign_lot, sign_with_password


@pytest.fixture
def walt(session: Session) -> User:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    return find_user(session, "walt")  # type: ignore[return-value]


def _receive(session: Session, walt: User) -> Lot:
    lot, _ = receipt.receive(
        session, actor=walt,
        new=ReceiptIn("RM-ASC", "SUP-NORTHBRIDGE", "S-1", "25", date(2028, 5, 31), "1",
                      key=uuid.uuid4().hex),
        clock=CLOCK,
    )  # fmt: skip
    return lot


def correct(session: Session, walt: User, lot: Lot, field: str, value: str, reason: str = "Typo"):  # type: ignore[no-untyped-def]
    return corrections.correct_receipt(session, actor=walt, lot_code=lot.lot_code, field=field,
                                       value=value, reason=reason, clock=CLOCK)  # fmt: skip


def test_a_wrong_receipt_is_superseded_with_a_reason_and_the_old_value_kept(
    session: Session, walt: User
) -> None:
    lot = _receive(session, walt)
    with pytest.raises(Rejected, match="Give a reason"):
        correct(session, walt, lot, "expiry", "2028-06-30", reason="")
    fixed = correct(session, walt, lot, "expiry", "2028-06-30", reason="Label read 05 for 06")
    assert (fixed.old_value, fixed.new_value, lot.expiry) == ("2028-05-31", "2028-06-30",
                                                                date(2028, 6, 30))  # fmt: skip
    correct(session, walt, lot, "supplier_lot", "S-1B", reason="Second line of the label")
    quantity = correct(session, walt, lot, "quantity", "24.5", reason="Scale ticket says 24.5")
    assert ledger.balance(session, lot.id) == Decimal("24.5")  # type: ignore[arg-type]
    assert corrections.received_quantity(session, lot) == Decimal("24.5")
    movement = session.get(InventoryMovement, quantity.movement_id)
    assert (movement.kind, movement.quantity) == ("adjustment", Decimal("-0.5"))  # type: ignore[union-attr]
    # The receipt movement itself is untouched: the ledger is never rewritten.
    first = ledger.movements(session, lot.id)[0]  # type: ignore[arg-type]
    assert (first.kind, first.quantity) == ("receipt", Decimal("25"))

    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "lot.receipt_corrected")
        .order_by(AuditEvent.id)  # type: ignore[arg-type]
    ).all()
    assert [(json.loads(e.before), e.reason) for e in events] == [  # type: ignore[arg-type]
        ({"expiry": "2028-05-31"}, "Label read 05 for 06"),
        ({"supplier_lot": "S-1"}, "Second line of the label"),
        ({"quantity": "25"}, "Scale ticket says 24.5"),
    ]
    with pytest.raises(Rejected, match="The expiry date is 2028-06-30 already"):
        correct(session, walt, lot, "expiry", "2028-06-30")
    for field, value in (("expiry", "30.06.2028"), ("quantity", "1e3"), ("supplier_lot", "\u202eX"),
                         ("quantity", "-1"), ("expiry", "9999-12-31")):  # fmt: skip
        with pytest.raises(Rejected):
            correct(session, walt, lot, field, value)


def test_a_receipt_is_no_longer_corrected_once_qa_has_signed_a_decision(
    session: Session, walt: User, make_signer: Callable[..., Signer], make_user: Callable[..., User]
) -> None:
    lot = _receive(session, walt)
    with pytest.raises(PermissionDenied, match="Only Warehouse or Admin or QA can correct"):
        correct(session, make_user("operator"), lot, "expiry", "2028-06-30")
    sign_lot(session, make_signer("qa").user, lot, "released")
    with pytest.raises(Rejected, match="QA has signed a decision on lot .* as received"):
        correct(session, walt, lot, "expiry", "2028-06-30")


def test_a_count_moves_the_ledger_only_when_another_qa_person_approves_it(
    session: Session, walt: User, make_signer: Callable[..., Signer]
) -> None:
    lot = ledger.get_lot(session, "MCC-2610-01")  # 60 kg released, on the shelf
    with pytest.raises(Rejected, match="The count matches the book"):
        corrections.propose_adjustment(session, actor=walt, lot_code=lot.lot_code,
                                       counted="60", reason="Count", clock=CLOCK)  # fmt: skip
    proposed = corrections.propose_adjustment(
        session, actor=walt, lot_code=lot.lot_code, counted="58.5",
        reason="Annual count: one bag torn", clock=CLOCK,
    )  # fmt: skip
    assert ledger.balance(session, lot.id) == Decimal("60")  # type: ignore[arg-type]  # not yet
    with pytest.raises(Rejected, match="waiting for QA's approval already"):
        corrections.propose_adjustment(session, actor=walt, lot_code=lot.lot_code,
                                       counted="58", reason="Again", clock=CLOCK)  # fmt: skip
    with pytest.raises(PermissionDenied, match="Only QA can sign"):
        sign_with_password(session, walt, record_type="stock_adjustment",
                           record_id=proposed.id, meaning="approved")  # fmt: skip
    qa = make_signer("qa", with_passkey=False).user
    sign_with_password(session, qa, record_type="stock_adjustment", record_id=proposed.id,
                       meaning="approved")  # fmt: skip
    assert ledger.balance(session, lot.id) == Decimal("58.5")  # type: ignore[arg-type]
    assert proposed.status == "approved"
    movement = session.get(InventoryMovement, proposed.movement_id)
    assert (movement.kind, movement.quantity, movement.reason) == (  # type: ignore[union-attr]
        "adjustment",
        Decimal("-1.5"),
        "Annual count: one bag torn",
    )
    with pytest.raises(PermissionDenied, match="approved already"):
        sign_with_password(session, qa, record_type="stock_adjustment", record_id=proposed.id,
                           meaning="approved")  # fmt: skip


def test_a_count_is_not_approved_by_its_counter_nor_after_the_stock_moved(
    session: Session, walt: User, make_signer: Callable[..., Signer]
) -> None:
    both = make_signer("warehouse", "qa", with_passkey=False).user
    lot = ledger.get_lot(session, "MGS-2610-01")  # 5 kg
    proposed = corrections.propose_adjustment(session, actor=both, lot_code=lot.lot_code,
                                              counted="4", reason="Count", clock=CLOCK)  # fmt: skip
    with pytest.raises(PermissionDenied, match="You counted this stock"):
        sign_with_password(session, both, record_type="stock_adjustment", record_id=proposed.id,
                           meaning="approved")  # fmt: skip
    # Stock moves after the count (another issue, say): the count no longer says what to adjust.
    session.add(InventoryMovement(lot_id=lot.id, kind="adjustment", quantity=Decimal("-1"),  # type: ignore[arg-type]
                                  unit="kg", reason="test", at=CLOCK.now(), by_id=walt.id))  # type: ignore[arg-type]  # fmt: skip
    session.flush()
    with pytest.raises(PermissionDenied, match="moved since the count"):
        sign_with_password(session, make_signer("qa", with_passkey=False).user,
                           record_type="stock_adjustment", record_id=proposed.id,
                           meaning="approved")  # fmt: skip
