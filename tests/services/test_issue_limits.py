"""Issue stays within the recipe: a batch is issued at most its scaled target plus tolerance of
each BOM material (issues net of returns, over all lots), unless a supervisor approved an excess
with a reason; a material not on its BOM is never issued to it (issue 11 point 3)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, col, select

from app.db import Database
from app.models import AuditEvent, ExcessIssueApproval, InventoryMovement, User
from app.services.accounts.auth import find_user
from app.services.accounts.users import NewUser, create_user
from app.services.core.errors import GateViolation, NotFound, PermissionDenied, Rejected
from app.services.demo import seed_demo
from app.services.esign import signers
from app.services.execution import batches, excess_issues
from app.services.execution.batches import BatchIn
from app.services.execution.excess_issues import ExcessIssueIn
from app.services.warehouse import issuing, ledger, receipt
from app.services.warehouse.issuing import IssueIn
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import CLOCK, at
from tests.conftest import PASSWORD, SYSTEM, audit_actions, count
from tests.signing import NOW, acknowledge, sign_lot

BATCH = "VC500-26-0042"  # 100,000 tablets: 0.500 kg magnesium stearate ±2 % (0.010 kg)
MGS = "MGS-2610-01"  # the demo's released lot of magnesium stearate, 5 kg


@pytest.fixture
def walt(session: Session) -> User:
    seed_demo(session, actor=SYSTEM, clock=at(NOW))
    batches.create_batch(
        session, actor=find_user(session, "sam"), new=BatchIn("VC500", BATCH, "100000"),
        clock=at(NOW),
    )  # type: ignore[arg-type]  # fmt: skip
    return find_user(session, "walt")  # type: ignore[return-value]


@pytest.fixture
def sam(session: Session, walt: User) -> User:
    return find_user(session, "sam")  # type: ignore[return-value]


def key() -> str:
    return uuid.uuid4().hex


def issue(session: Session, walt: User, qty: str, lot: str = MGS, reason: str = "") -> object:
    return issuing.issue(
        session, actor=walt, new=IssueIn(lot, qty, BATCH, reason, key()), clock=at(NOW)
    )


def give_back(session: Session, walt: User, qty: str) -> None:
    issuing.return_to_stock(
        session, actor=walt, lot_code=MGS, quantity=qty, batch_no=BATCH, key=key(), clock=at(NOW)
    )


def approve(session: Session, who: User, qty: str, reason: str, form_key: str = "") -> object:
    return excess_issues.approve_excess_issue(
        session,
        actor=who,
        new=ExcessIssueIn(BATCH, "RM-MGS", qty, reason, form_key or key()),
        clock=at(NOW),
    )


def test_issue_beyond_target_and_tolerance_is_refused_with_the_numbers(
    session: Session, walt: User
) -> None:
    with pytest.raises(GateViolation) as refused:
        issue(session, walt, "5")

    assert [(v.field, v.message) for v in refused.value.violations] == [
        (
            "quantity",
            "Batch VC500-26-0042 needs 0.500 kg of RM-MGS ±2 % (0.010 kg); nothing is issued "
            "yet, so at most 0.510 kg more may be issued, not 5 kg. More needs a "
            "supervisor's excess approval, with a reason, on the batch page.",
        )
    ]
    assert ledger.balance(session, ledger.get_lot(session, MGS).id) == Decimal("5")  # type: ignore[arg-type]
    assert audit_actions(session, action="lot.issued") == []


def test_the_limit_counts_every_issue_net_of_returns(session: Session, walt: User) -> None:
    issue(session, walt, "0.300")
    issue(session, walt, "0.200")
    with pytest.raises(
        GateViolation, match=r"0\.500 kg is already issued, so at most 0\.010 kg more"
    ):
        issue(session, walt, "0.011")
    issue(session, walt, "0.010")  # the top of the tolerance band is allowed
    with pytest.raises(GateViolation, match=r"so nothing more may be issued, not 0\.001 kg"):
        issue(session, walt, "0.001")

    give_back(session, walt, "0.100")
    issue(session, walt, "0.100")
    with pytest.raises(GateViolation, match=r"0\.510 kg is already issued"):
        issue(session, walt, "0.001")
    assert audit_actions(session, action="lot.issued") == ["lot.issued"] * 4


def test_the_limit_counts_issues_from_every_lot_of_the_material(
    session: Session, walt: User, sam: User, make_signer: Callable[..., object]
) -> None:
    qa = make_signer("qa", username="qa-lead", full_name="Quinn Adeyemi")
    other, _ = receipt.receive(
        session, actor=walt,
        new=ReceiptIn("RM-MGS", "SUP-LUBRICHEM", "LC-2", "2", date(2029, 1, 31), key=key()),
        clock=at(NOW),
    )  # fmt: skip
    sign_lot(session, qa.user, other, "released")  # type: ignore[attr-defined]
    issue(session, walt, "0.400")
    with pytest.raises(GateViolation, match=r"0\.400 kg is already issued, so at most 0\.110"):
        issue(session, walt, "0.200", lot=other.lot_code, reason="First lot's drum is empty")


def test_a_supervisors_excess_approval_raises_the_limit_and_is_shown(
    session: Session, walt: User, sam: User
) -> None:
    issue(session, walt, "0.510")
    approval, again = approve(session, sam, "0.100", "Spilled at the scale; weighing repeated")  # type: ignore[misc]
    assert not again

    issue(session, walt, "0.100")
    with pytest.raises(GateViolation) as refused:
        issue(session, walt, "0.001")

    assert refused.value.violations[0].message.startswith(
        "Batch VC500-26-0042 needs 0.500 kg of RM-MGS ±2 % (0.010 kg) plus 0.100 kg excess "
        "approved; 0.610 kg is already issued, so nothing more may be issued"
    )
    view = batches.load_batch(session, BATCH)
    assert [a.words for a in view.approvals] == [
        "0.100 kg of RM-MGS excess approved by Samira Novak: "
        "Spilled at the scale; weighing repeated"
    ]
    assert audit_actions(session, entity_type="batch") == [
        "batch.created",
        "batch.excess_issue_approved",
    ]
    approved = session.exec(
        select(AuditEvent).where(AuditEvent.action == "batch.excess_issue_approved")
    ).one()
    assert approved.reason == "Spilled at the scale; weighing repeated"
    last_issue = session.exec(
        select(AuditEvent).where(AuditEvent.action == "lot.issued").order_by(col(AuditEvent.id))
    ).all()[-1]
    after = json.loads(last_issue.after or "{}")
    assert (after["beyond_tolerance"], after["excess_approvals"]) == ("0.100", [approval.id])  # type: ignore[attr-defined]


def test_only_a_supervisor_approves_an_excess(
    session: Session, walt: User, make_user: Callable[..., User]
) -> None:
    for who in (walt, make_user("admin"), make_user("qa")):
        with pytest.raises(PermissionDenied, match="Only Supervisor can approve an excess issue"):
            approve(session, who, "0.100", "Spilled")
    assert count(session, ExcessIssueApproval) == 0
    assert audit_actions(session, action="batch.excess_issue_approved") == []


def test_an_approval_names_a_bom_material_a_sane_quantity_and_a_reason(
    session: Session, sam: User
) -> None:
    with pytest.raises(Rejected) as refused:
        excess_issues.approve_excess_issue(
            session, actor=sam, new=ExcessIssueIn(BATCH, "HSG-200", "1", " ", key()),
            clock=at(NOW),
        )  # fmt: skip
    assert {v.field: v.message for v in refused.value.violations} == {
        "material": "Batch VC500-26-0042 does not use HSG-200; only a material of its bill of "
        "materials can be issued to it.",
        "reason": "Give a reason; it is kept in the audit trail.",
    }
    with pytest.raises(Rejected) as refused:
        approve(session, sam, "50", "Typo")
    assert refused.value.for_field("quantity") == [
        "One approval covers at most the target again (0.500 kg of RM-MGS); for more, raise a "
        "deviation."
    ]
    with pytest.raises(NotFound, match="There is no batch 'NOPE'"):
        excess_issues.approve_excess_issue(
            session, actor=sam, new=ExcessIssueIn("nope", "RM-MGS", "1", "x", key()),
            clock=at(NOW),
        )  # fmt: skip
    assert count(session, ExcessIssueApproval) == 0


def test_the_same_approval_form_twice_approves_once(session: Session, sam: User) -> None:
    form_key = key()
    first, _ = approve(session, sam, "0.100", "Spilled", form_key)  # type: ignore[misc]
    again, repeated = approve(session, sam, "0.100", "Spilled", form_key)  # type: ignore[misc]
    assert repeated
    assert again.id == first.id
    assert count(session, ExcessIssueApproval) == 1


def test_two_issues_of_one_material_at_once_never_pass_the_limit_together(
    backend: str, app_database: Callable[[str], str]
) -> None:
    """Two lots of magnesium stearate issued to one batch at the same moment, 0.300 kg each:
    each fits the 0.510 kg limit alone, together they do not. The batch row is locked, so
    exactly one is issued (real threads, real commits, both databases)."""
    db = Database(app_database(backend))
    with db.session_scope() as s:
        seed_demo(s, actor=SYSTEM, clock=CLOCK)
        create_user(
            s, actor=SYSTEM, new=NewUser("w2", "Second Warehouse", ("warehouse",), PASSWORD),
            clock=CLOCK,
        )  # fmt: skip
        quality = create_user(
            s, actor=SYSTEM, new=NewUser("qa2", "Second QA", ("qa",), PASSWORD), clock=CLOCK
        )
        signers.record_identity_check(
            s, actor=find_user(s, "ada"), user_id=quality.id, document_type="passport",
            document_reference="X1", clock=CLOCK,
        )  # type: ignore[arg-type]  # fmt: skip
        acknowledge(s, quality)
        batches.create_batch(
            s, actor=find_user(s, "sam"), new=BatchIn("VC500", BATCH, "100000"), clock=CLOCK
        )  # type: ignore[arg-type]
        second, _ = receipt.receive(
            s, actor=find_user(s, "walt"),
            new=ReceiptIn("RM-MGS", "SUP-LUBRICHEM", "LC-2", "2", date(2029, 1, 31), key=key()),
            clock=CLOCK,
        )  # type: ignore[arg-type]  # fmt: skip
        sign_lot(s, quality, second, "released")
        lots = [MGS, second.lot_code]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def take(username: str, lot_code: str) -> None:
        barrier.wait()
        try:
            with db.session_scope() as s:
                issuing.issue(
                    s, actor=find_user(s, username),
                    new=IssueIn(lot_code, "0.300", BATCH, "Both drums open", key()), clock=CLOCK,
                )  # type: ignore[arg-type]  # fmt: skip
            outcomes.append("issued")
        except GateViolation as exc:
            outcomes.append(exc.violations[0].code)

    threads = [
        threading.Thread(target=take, args=(who, lot))
        for who, lot in zip(("walt", "w2"), lots, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.session_scope() as s:
        issued = list(
            s.exec(select(InventoryMovement.quantity).where(InventoryMovement.kind == "issue"))
        )
    db.engine.dispose()

    assert sorted(outcomes) == ["batch.over_target", "issued"]
    assert issued == [Decimal("-0.300")]
