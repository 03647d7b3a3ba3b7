"""The same form or signing answer sent several times at once (a double tap on a slow network,
a retry after a dropped connection) records once; every copy gets an answer, never a server
error (issue 9 point 5). Real threads, real commits, both databases."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from sqlmodel import select

from app.db import Database
from app.models import DespatchAdvice, InventoryMovement, Lot, Signature, Submission, User
from app.services.accounts.auth import find_user
from app.services.accounts.users import NewUser, create_user
from app.services.core.errors import Rejected, SignatureRefused
from app.services.demo import seed_demo
from app.services.esign import signatures, signers
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from app.services.warehouse import issuing, receipt, shipping
from app.services.warehouse.issuing import IssueIn
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import CLOCK
from tests.conftest import PASSWORD, SYSTEM
from tests.quality import pass_qc
from tests.signing import POLICY, RP, acknowledge, sign_lot

COPIES = 4


def _at_once(work: Callable[[], object]) -> list[object]:
    """Run `work` in COPIES threads released together; each outcome is a result or the error."""
    barrier = threading.Barrier(COPIES)
    outcomes: list[object] = []

    def run() -> None:
        barrier.wait()
        try:
            outcomes.append(work())
        except Exception as exc:  # noqa: BLE001 - every outcome is inspected below
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(COPIES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _demo(backend: str, app_database: Callable[[str], str]) -> Database:
    """The demo plant, plus a QA person ready to sign ("qa9", test password)."""
    db = Database(app_database(backend))
    with db.session_scope() as s:
        seed_demo(s, actor=SYSTEM, clock=CLOCK)
        person = create_user(
            s, actor=SYSTEM, new=NewUser("qa9", "Quality Nine", ("qa",), PASSWORD), clock=CLOCK
        )
        signers.record_identity_check(
            s, actor=find_user(s, "ada"), user_id=person.id, document_type="passport",
            document_reference="Q9", clock=CLOCK,
        )  # type: ignore[arg-type]  # fmt: skip
        acknowledge(s, person)
    return db


def _qa(s: object) -> User:
    return find_user(s, "qa9")  # type: ignore[arg-type,return-value]


def test_one_receipt_sent_four_times_at_once_makes_one_lot_and_answers_each_copy(
    backend: str, app_database: Callable[[str], str]
) -> None:
    db = _demo(backend, app_database)
    form_key = uuid.uuid4().hex
    new = ReceiptIn("RM-MGS", "SUP-LUBRICHEM", "L-DOUBLE", "5", date(2028, 1, 31), key=form_key)

    def receive() -> str:
        with db.session_scope() as s:
            lot, _label = receipt.receive(s, actor=find_user(s, "walt"), new=new, clock=CLOCK)  # type: ignore[arg-type]
            return lot.lot_code

    outcomes = _at_once(receive)
    with db.session_scope() as s:
        lots = list(s.exec(select(Lot.lot_code).where(Lot.supplier_lot == "L-DOUBLE")))
        kept = list(s.exec(select(Submission.key).where(Submission.key == form_key)))
    db.engine.dispose()

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert len(lots) == 1 and outcomes == lots * COPIES  # every copy answered with the one lot
    assert kept == [form_key]


def test_one_issue_sent_four_times_at_once_moves_stock_once(
    backend: str, app_database: Callable[[str], str]
) -> None:
    db = _demo(backend, app_database)
    with db.session_scope() as s:
        batches.create_batch(
            s, actor=find_user(s, "sam"), new=BatchIn("VC500", "VC500-26-0077", "100000"),
            clock=CLOCK,
        )  # type: ignore[arg-type]  # fmt: skip
        lot, _label = receipt.receive(
            s, actor=find_user(s, "walt"),
            new=ReceiptIn("RM-ASC", "SUP-NORTHBRIDGE", "S-1", "80", date(2028, 5, 31), "2",
                          key=uuid.uuid4().hex),
            clock=CLOCK,
        )  # type: ignore[arg-type]  # fmt: skip
        sign_lot(s, _qa(s), lot, "released")
        lot_code, lot_id = lot.lot_code, lot.id
    new = IssueIn(lot_code, "55", "VC500-26-0077", key=uuid.uuid4().hex)

    def issue() -> int:
        with db.session_scope() as s:
            movement, _fefo = issuing.issue(s, actor=find_user(s, "walt"), new=new, clock=CLOCK)  # type: ignore[arg-type]
            return movement.id  # type: ignore[return-value]

    outcomes = _at_once(issue)
    with db.session_scope() as s:
        moved = list(
            s.exec(
                select(InventoryMovement.quantity).where(
                    InventoryMovement.lot_id == lot_id, InventoryMovement.kind == "issue"
                )
            )
        )
    db.engine.dispose()

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert len(set(outcomes)) == 1  # the same movement, answered four times
    assert moved == [Decimal("-55")]


def test_one_signing_answer_sent_four_times_at_once_signs_once_and_says_so(
    backend: str, app_database: Callable[[str], str]
) -> None:
    db = _demo(backend, app_database)
    with db.session_scope() as s:
        lot, _label = receipt.receive(
            s, actor=find_user(s, "walt"),
            new=ReceiptIn("RM-ASC", "SUP-NORTHBRIDGE", "S-2", "10", date(2028, 5, 31), "1",
                          key=uuid.uuid4().hex),
            clock=CLOCK,
        )  # type: ignore[arg-type]  # fmt: skip
        lot_id = lot.id
        pass_qc(s, lot, _qa(s))
        challenge_id = signatures.begin_signing(
            s, signer=_qa(s), record_type="lot", record_id=str(lot.id),
            meaning="released", rp=RP, policy=POLICY, clock=CLOCK,
        ).challenge_id  # type: ignore[arg-type]  # fmt: skip

    def sign() -> int:
        with db.session_scope() as s:
            signature = signatures.sign_with_password(
                s, signer=_qa(s), challenge_id=challenge_id, username="qa9",
                password=PASSWORD, policy=POLICY, clock=CLOCK,
            )  # type: ignore[arg-type]  # fmt: skip
            return signature.id  # type: ignore[return-value]

    outcomes = _at_once(sign)
    with db.session_scope() as s:
        stored = list(
            s.exec(
                select(Signature.id).where(
                    Signature.record_type == "lot", Signature.record_id == str(lot_id)
                )
            )
        )
        status = s.get(Lot, lot_id).status  # type: ignore[union-attr]
    db.engine.dispose()

    assert [o for o in outcomes if isinstance(o, int)] == stored and len(stored) == 1
    refusals = [o for o in outcomes if not isinstance(o, int)]
    assert len(refusals) == COPIES - 1
    for refusal in refusals:
        assert isinstance(refusal, SignatureRefused), repr(refusal)
        assert "already recorded" in refusal.message and "nothing was signed again" in (
            refusal.message
        )
    assert status == "released"


def test_one_shipment_despatched_by_four_people_at_once_ships_once_with_one_advice(
    backend: str, app_database: Callable[[str], str]
) -> None:
    """Four despatch forms of one shipment, each with its own key (four people): the shipment's
    row lock lets one through; the others are told it has already shipped."""
    db = _demo(backend, app_database)
    with db.session_scope() as s:
        walt = find_user(s, "walt")
        lot, _ = receipt.receive(
            s, actor=walt,  # type: ignore[arg-type]
            new=ReceiptIn("RM-ASC", "SUP-NORTHBRIDGE", "S-2", "80", date(2028, 5, 31), "2",
                          key=uuid.uuid4().hex),
            clock=CLOCK,
        )  # fmt: skip
        sign_lot(s, _qa(s), lot, "released")
        shipment = shipping.start_shipment(
            s,
            actor=walt,
            customer_code="CUST-GREENLEAF",
            reference="",
            clock=CLOCK,  # type: ignore[arg-type]
        )
        shipping.add_line(
            s, actor=walt, shipment_no=shipment.shipment_no, scanned=lot.lot_code,  # type: ignore[arg-type]
            quantity="30", key=uuid.uuid4().hex, clock=CLOCK,
            reason="Sample for the customer's lab",  # a raw material ships with a reason
        )  # fmt: skip
        shipment_no, lot_id = shipment.shipment_no, lot.id

    def despatch() -> str:
        with db.session_scope() as s:
            shipped, _ = shipping.despatch(
                s, actor=find_user(s, "walt"), shipment_no=shipment_no,  # type: ignore[arg-type]
                key=uuid.uuid4().hex, clock=CLOCK,
            )  # fmt: skip
            return shipped.status

    outcomes = _at_once(despatch)
    with db.session_scope() as s:
        shipped = list(
            s.exec(
                select(InventoryMovement.quantity).where(
                    InventoryMovement.lot_id == lot_id, InventoryMovement.kind == "shipment"
                )
            )
        )
        advices = len(list(s.exec(select(DespatchAdvice))))
    db.engine.dispose()

    assert outcomes.count("shipped") == 1
    refused = [o for o in outcomes if isinstance(o, Rejected)]
    assert len(refused) == COPIES - 1
    assert all("has already shipped" in r.message for r in refused)
    assert shipped == [Decimal("-30")]
    assert advices == 1
