"""The executed record's skeleton (issue 13 points 1 and 6): a supervisor starts, holds and resumes
a batch with a reason; its steps are signed performed in order, by a trained operator, and verified
by another person where the master record asks; steps that capture something are not signed bare.
On both databases; two people signing one step at once sign it once."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from app.db import Database
from app.models import Batch, Meaning, Signature, StepEntry, StepExecution, User
from app.services.core.errors import DomainError, GateViolation, PermissionDenied, Rejected
from app.services.execution import batches, capture, record
from app.services.execution.batches import BatchIn
from tests.clock import CLOCK
from tests.conftest import audit_actions
from tests.floor import BATCH, SIGNING, _able_to_sign, _person, plant_with_a_tea_batch


@pytest.fixture
def tea(session: Session) -> Batch:
    return plant_with_a_tea_batch(session)


def _sign(session: Session, who: User, batch: Batch, code: str, meaning: Meaning) -> Signature:
    view = record.get_step(session, batch, code)
    return SIGNING.sign(
        session, who, record_type=record.RECORD_TYPE, record_id=view.execution.id,
        meaning=meaning.value,
    )  # fmt: skip


def _move(session: Session, who: User, move: str, reason: str = "") -> Batch:
    return record.move_batch(
        session, actor=who, batch_no=BATCH, move=move, reason=reason, clock=CLOCK
    )


def test_a_supervisor_starts_the_batch_and_its_steps_are_laid_out_in_order(
    session: Session, tea: Batch
) -> None:
    with pytest.raises(PermissionDenied):
        _move(session, _person(session, "olivia"), "started")
    started = _move(session, _person(session, "sam"), "started")
    assert started.status == "in_progress"
    views = record.steps(session, started)
    assert [(v.step.code, v.state.value) for v in views] == [
        ("10", "open"), ("20", "open"), ("25", "open"), ("30", "open"),
    ]  # fmt: skip
    assert record.next_step(views).step.code == "10"  # type: ignore[union-attr]
    assert audit_actions(session, action="batch.started") == ["batch.started"]
    with pytest.raises(GateViolation, match="is in progress; only a batch that is planned"):
        _move(session, _person(session, "sam"), "started")


def test_a_hold_and_a_resume_need_a_reason_and_stop_the_signing(
    session: Session, tea: Batch
) -> None:
    sam = _person(session, "sam")
    _move(session, sam, "started")
    with pytest.raises(GateViolation) as refused:
        _move(session, sam, "held")
    assert refused.value.for_field("reason") == ["Give a reason; it is kept in the audit trail."]
    _move(session, sam, "held", "Blender alarm")
    olivia = _able_to_sign(session, "olivia")
    with pytest.raises(PermissionDenied, match="is on hold: its steps are signed only while"):
        _sign(session, olivia, tea, "10", Meaning.PERFORMED)
    _move(session, sam, "resumed", "Alarm cleared by maintenance")
    _sign(session, olivia, tea, "10", Meaning.PERFORMED)
    assert audit_actions(session, action="batch.held") == ["batch.held"]


def test_steps_are_signed_in_order_and_verified_by_another_person(
    session: Session, tea: Batch
) -> None:
    _move(session, _person(session, "sam"), "started")
    olivia, omar = _able_to_sign(session, "olivia"), _able_to_sign(session, "omar")
    with pytest.raises(PermissionDenied, match="Step 10 “Line clearance” is not done yet"):
        _sign(session, olivia, tea, "20", Meaning.PERFORMED)
    _sign(session, olivia, tea, "10", Meaning.PERFORMED)
    # Performed, not yet verified: step 20 still waits.
    with pytest.raises(PermissionDenied, match="Step 10 “Line clearance” is not done yet"):
        _sign(session, omar, tea, "20", Meaning.PERFORMED)
    with pytest.raises(PermissionDenied, match="Olivia .* performed step 10; another person"):
        _sign(session, olivia, tea, "10", Meaning.VERIFIED)
    _sign(session, omar, tea, "10", Meaning.VERIFIED)
    _sign(session, omar, tea, "20", Meaning.PERFORMED)
    views = record.steps(session, tea)
    assert [(v.step.code, v.state.value, v.performer, v.verifier) for v in views] == [
        ("10", "verified", olivia.full_name, omar.full_name),
        ("20", "performed", omar.full_name, None),
        ("25", "open", None, None),
        ("30", "open", None, None),
    ]
    assert audit_actions(session, action="step.performed") == ["step.performed"] * 2
    assert record.next_step(views).step.code == "25"  # type: ignore[union-attr]
    # The QA hold point is QA's to sign, not an operator's.
    with pytest.raises(PermissionDenied, match="Only QA can sign"):
        _sign(session, olivia, tea, "30", Meaning.PERFORMED)


def test_untrained_people_and_capture_steps_are_refused(session: Session, tea: Batch) -> None:
    _move(session, _person(session, "sam"), "started")
    otto = _able_to_sign(session, "otto")  # his VC500 training expired (SCENARIOS)
    with pytest.raises(PermissionDenied, match="VC500"):
        _sign(session, otto, tea, "10", Meaning.PERFORMED)
    # A weighing is not signed bare: the amount gate wants the line's total in its band.
    with pytest.raises(PermissionDenied, match="RM-MCC needs 10.000 kg .* nothing is weighed yet"):
        _sign(session, _able_to_sign(session, "olivia"), tea, "25", Meaning.PERFORMED)


def test_story1_step5_the_overdue_blender_is_refused_and_the_current_one_recorded(
    session: Session, tea: Batch
) -> None:
    """The demo's VC500 batch, step 10 (line clearance of the blender): signed only once the
    blender is recorded; BL-01 (calibration overdue) is refused with the reason, BL-02 recorded
    with the evidence its gates relied on; then Olivia signs the step performed."""
    sam, olivia = _person(session, "sam"), _able_to_sign(session, "olivia")
    vc = batches.create_batch(
        session, actor=sam, new=BatchIn("VC500", "VC500-26-0042", "100000"), clock=CLOCK
    )
    record.move_batch(
        session, actor=sam, batch_no=vc.batch_no, move="started", reason="", clock=CLOCK
    )
    with pytest.raises(PermissionDenied, match="Step 10: scan the blender used first"):
        _sign(session, olivia, vc, "10", Meaning.PERFORMED)

    def scan(code: str) -> StepEntry:
        return capture.record_equipment(
            session, actor=olivia, batch_no=vc.batch_no, code="10", scanned=code, clock=CLOCK
        )

    with pytest.raises(GateViolation) as refused:
        scan("BL-01")
    assert [v.code for v in refused.value.violations] == ["calibration.overdue"]
    assert refused.value.violations[0].field == "equipment"
    assert "BL-01" in refused.value.message and "use another blender" in refused.value.message
    with pytest.raises(GateViolation, match="PR-01 is a .*; step 10 needs a blender"):
        scan("PR-01")
    with pytest.raises(Rejected, match="There is no equipment 'XX-9'"):
        scan("xx-9")
    entry = scan("BL-02")
    facts = {e["gate"]: e["facts"] for e in capture.evidence_of(entry)}
    assert facts["equipment"]["equipment"] == "BL-02"
    assert "calibration_due" in facts["equipment"]
    assert audit_actions(session, action="step.equipment_recorded") == ["step.equipment_recorded"]
    _sign(session, olivia, vc, "10", Meaning.PERFORMED)
    assert record.get_step(session, vc, "10").state.value == "performed"
    # Nothing more is recorded on a performed step.
    with pytest.raises(GateViolation, match="Step 10 is already performed"):
        scan("BL-02")

    # Story 1 step 4: at step 20 (ascorbic acid) the expired lot is blocked with the reason,
    # a lot of another material too; ASC-2611-07 is recorded with its status and expiry at use.
    def lot(scanned: str) -> StepEntry:
        return capture.record_lot(
            session, actor=olivia, batch_no=vc.batch_no, code="20", scanned=scanned, clock=CLOCK
        )

    with pytest.raises(GateViolation) as refused:
        lot("ASC-2409-02")
    assert refused.value.for_field("lot") == [
        "Lot ASC-2409-02 expired on 2026-09-30 — scan a released lot of RM-ASC."
    ]
    with pytest.raises(GateViolation, match="MCC-2610-01"):
        lot("MCC-2610-01")
    with pytest.raises(Rejected):
        lot("NO-SUCH-LOT")
    kept = lot("]C110ASC-2611-07")  # our own label, as the scanner reads it
    assert kept.subject == "ASC-2611-07"
    facts = {e["gate"]: e["facts"] for e in capture.evidence_of(kept)}
    assert facts["lot"]["status"] == "released"
    assert facts["lot"]["expiry"] == "2028-05-31"


def test_two_people_signing_one_step_at_once_sign_it_once(
    backend: str, app_database: Callable[[str], str]
) -> None:
    """On PostgreSQL the step row lock serialises them; the second sees it performed."""
    db = Database(app_database(backend))
    with db.session_scope() as s:
        plant_with_a_tea_batch(s)
        _move(s, _person(s, "sam"), "started")
        for name in ("olivia", "omar"):
            _able_to_sign(s, name)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def sign(name: str) -> None:
        barrier.wait()
        try:
            with db.session_scope() as s:
                batch = batches.get_batch(s, BATCH)
                _sign(s, _person(s, name), batch, "10", Meaning.PERFORMED)
            outcomes.append("signed")
        except DomainError as exc:
            outcomes.append(exc.message)

    threads = [threading.Thread(target=sign, args=(n,)) for n in ("olivia", "omar")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("signed") == 1, outcomes
    with db.session_scope() as s:
        performed = s.exec(
            select(Signature).where(
                Signature.record_type == record.RECORD_TYPE, Signature.meaning == "performed"
            )
        ).all()
        assert len(performed) == 1
        step = s.exec(select(StepExecution).where(StepExecution.position == 1)).first()
        assert step is not None
        assert step.performed_by_id == performed[0].signer_id
    db.engine.dispose()


def test_story1_step4_a_manual_weighing_is_counted_against_the_band_and_kept_manual(
    session: Session, tea: Batch
) -> None:
    """54.60 kg of the 55.000 kg ±0.5 % is short (the step cannot be signed); more on top that
    goes past the band is refused; 0.52 kg more makes 55.12 kg: inside, so the step is signed.
    Typed weights need a reason and stay marked manual."""
    sam, olivia = _person(session, "sam"), _able_to_sign(session, "olivia")
    vc = batches.create_batch(
        session, actor=sam, new=BatchIn("VC500", "VC500-26-0042", "100000"), clock=CLOCK
    )
    record.move_batch(
        session, actor=sam, batch_no=vc.batch_no, move="started", reason="", clock=CLOCK
    )
    capture.record_equipment(
        session, actor=olivia, batch_no=vc.batch_no, code="10", scanned="BL-02", clock=CLOCK
    )
    _sign(session, olivia, vc, "10", Meaning.PERFORMED)

    def weigh(quantity: str, unit: str = "kg", reason: str = "Scale bridge offline") -> StepEntry:
        return capture.record_weight(
            session, actor=olivia, batch_no=vc.batch_no, code="20", quantity=quantity,
            unit=unit, reason=reason, clock=CLOCK,
        )  # fmt: skip

    with pytest.raises(GateViolation, match="Scan the lot you are weighing from first"):
        weigh("54.60")
    capture.record_lot(
        session, actor=olivia, batch_no=vc.batch_no, code="20", scanned="ASC-2611-07",
        clock=CLOCK,
    )  # fmt: skip
    with pytest.raises(GateViolation) as refused:
        weigh("54.60", reason="")
    assert refused.value.for_field("reason") == [
        "Say why the weight is typed, not captured from the scale."
    ]
    with pytest.raises(GateViolation, match="lb is not one of its units"):
        weigh("54.60", unit="lb")
    first = weigh("54.60")
    assert (first.source, first.reason) == ("manual", "Scale bridge offline")
    with pytest.raises(PermissionDenied, match="54.6"):
        _sign(session, olivia, vc, "20", Meaning.PERFORMED)  # short of the band
    with pytest.raises(GateViolation):
        weigh("0.80")  # 55.40 kg: past the top of the band
    weigh("520", unit="g")  # 55.12 kg
    _sign(session, olivia, vc, "20", Meaning.PERFORMED)
    assert audit_actions(session, action="step.weight_recorded") == ["step.weight_recorded"] * 2


def test_a_step_with_a_weight_typed_by_hand_is_verified_by_a_second_person(
    session: Session, tea: Batch
) -> None:
    """Step 25's master record asks no verification, but a weighing typed by hand makes one
    due (Annex 11 §6, 211.101(d)): the step after it waits until another person verifies."""
    _move(session, _person(session, "sam"), "started")
    olivia, omar = _able_to_sign(session, "olivia"), _able_to_sign(session, "omar")
    _sign(session, olivia, tea, "10", Meaning.PERFORMED)
    _sign(session, omar, tea, "10", Meaning.VERIFIED)
    _sign(session, olivia, tea, "20", Meaning.PERFORMED)
    with pytest.raises(PermissionDenied, match="does not ask for step 20 to be verified"):
        _sign(session, omar, tea, "20", Meaning.VERIFIED)
    capture.record_lot(
        session, actor=olivia, batch_no=BATCH, code="25", scanned="MCC-2610-01", clock=CLOCK
    )
    capture.record_weight(
        session, actor=olivia, batch_no=BATCH, code="25", quantity="10", unit="kg",
        reason="Scale bridge offline", clock=CLOCK,
    )  # fmt: skip
    _sign(session, olivia, tea, "25", Meaning.PERFORMED)
    view = record.get_step(session, tea, "25")
    assert (view.manual, view.needs_verification, view.finished) == (True, True, False)
    quinn = _person(session, "quinn")
    with pytest.raises(PermissionDenied, match="Step 25 “Weigh cellulose” is not done yet"):
        _sign(session, quinn, tea, "30", Meaning.PERFORMED)
    with pytest.raises(PermissionDenied, match="nobody verifies their own work"):
        _sign(session, olivia, tea, "25", Meaning.VERIFIED)
    _sign(session, omar, tea, "25", Meaning.VERIFIED)
    assert record.get_step(session, tea, "25").finished
