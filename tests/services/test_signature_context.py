"""Signatures that still verify years later on another host, and cover what they show (issue
10 points 1, 2 (name and date), 3, 5 and 8)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.models import DocumentRevision, Lot, User, WebAuthnChallenge
from app.services.core.errors import DecisionRefused, SignatureRefused
from app.services.esign import reverify, signatures
from app.services.esign import webauthn as wa
from app.services.warehouse import receipt
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import at
from tests.conftest import drop_guards
from tests.quality import pass_qc
from tests.signing import NOW, POLICY, RP, Signer, answer_with_passkey, sign_lot


def _begin(session: Session, signer: User, record_type: str, record_id: object, meaning: str,
           web_session_id: int | None = None) -> signatures.SigningRequest:  # fmt: skip
    return signatures.begin_signing(
        session, signer=signer, record_type=record_type, record_id=str(record_id),
        meaning=meaning, rp=RP, policy=POLICY, clock=at(NOW), web_session_id=web_session_id,
    )  # fmt: skip


def _sign_sop(session: Session, s: Signer, sop: DocumentRevision) -> int:
    request = _begin(session, s.user, "sop", sop.id, "read_and_understood")
    signature = answer_with_passkey(
        session,
        s.user,
        request.challenge_id,
        s.authenticator.get_assertion(request.passkey_options),
    )
    return signature.id  # type: ignore[return-value]


def _superuser(session: Session) -> None:
    drop_guards(session, "signature")


def test_a_signature_verifies_against_the_host_it_was_made_on_after_a_rename(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    """Made under http://localhost; the plant later moves to another host name and port: the
    genuine signature still verifies (it was checked against today's origin before)."""
    signature_id = _sign_sop(session, make_signer(), sop)
    renamed = wa.RelyingParty(id="bmr.plant.example", name="Batchbook",
                              origins=("https://bmr.plant.example:8443",))  # fmt: skip
    checked, findings = reverify.reverify(session, rp=renamed)
    assert checked == 2 and findings == []  # the signer's acknowledgement and the SOP
    stored = session.get(signatures.Signature, signature_id)
    assert stored is not None and stored.rp_id == "localhost"
    assert stored.allowed_origins == '["http://localhost"]'


def test_a_rewritten_name_date_or_reason_no_longer_verifies(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    signature_id = _sign_sop(session, make_signer(full_name="Quinn Adeyemi"), sop)
    _superuser(session)
    session.execute(
        text(
            "UPDATE signature SET printed_name = 'Someone Else', signed_at = :t,"
            " reason_text = 'a reason nobody signed' WHERE id = :id"
        ),
        {"t": NOW - timedelta(days=400), "id": signature_id},
    )
    session.expire_all()
    _checked, findings = reverify.reverify(session, rp=RP)
    problems = " / ".join(f.problem for f in findings)
    assert "not the name that signed" in problems
    assert "its date is not when it was signed" in problems
    assert "the reason shown with it is not the reason signed" in problems


@pytest.fixture
def lot(session: Session, make_user: Callable[..., User]) -> Lot:
    from app.services.demo import seed_demo
    from tests.conftest import SYSTEM

    seed_demo(session, actor=SYSTEM, clock=at(NOW))
    from app.services.accounts.auth import find_user

    received, _label = receipt.receive(
        session, actor=find_user(session, "walt"),  # type: ignore[arg-type]
        new=ReceiptIn("RM-ASC", "SUP-NORTHBRIDGE", "S-9", "5", date(2028, 5, 31), "1",
                      key=uuid.uuid4().hex),
        clock=at(NOW),
    )  # fmt: skip
    return received


def test_a_release_opened_before_a_hold_and_its_lift_is_refused(
    session: Session, make_signer: Callable[..., Signer], lot: Lot
) -> None:
    """The status is back to quarantine, but the lot was decided on in between: the release
    Quinn opened before must not land on a state she did not see."""
    quinn, other = make_signer("qa"), make_signer("qa")
    pass_qc(session, lot, other.user)
    request = _begin(session, quinn.user, "lot", lot.id, "released")
    sign_lot(session, other.user, lot, "held", reason="Supplier recall notice")
    sign_lot(session, other.user, lot, "hold_lifted", reason="Recall did not cover it")
    assert lot.status == "quarantine"
    with pytest.raises(SignatureRefused, match="changed after you opened"):
        answer_with_passkey(
            session, quinn.user, request.challenge_id,
            quinn.authenticator.get_assertion(request.passkey_options),
        )  # fmt: skip


def test_a_signing_refused_for_the_records_state_spends_its_challenge(
    session: Session, make_signer: Callable[..., Signer], lot: Lot
) -> None:
    quinn, other = make_signer("qa"), make_signer("qa")
    pass_qc(session, lot, other.user)
    request = _begin(session, quinn.user, "lot", lot.id, "released")
    assertion = quinn.authenticator.get_assertion(request.passkey_options)
    sign_lot(session, other.user, lot, "rejected", reason="Assay low")
    with pytest.raises(DecisionRefused) as refused:
        answer_with_passkey(session, quinn.user, request.challenge_id, assertion)
    # The boundary keeps what was written (the spent challenge) instead of rolling it back.
    assert refused.value.keeps_changes and refused.value.status_code == 403
    challenge = session.get(WebAuthnChallenge, request.challenge_id)
    assert challenge is not None and challenge.used_at is not None


def test_a_challenge_is_answered_only_from_the_session_that_began_it(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    from app.models import WebSession
    from app.services.accounts import web_sessions
    from tests.clock import CLOCK

    s = make_signer()
    _token, phone = web_sessions.start(
        session, data="{}", user_id=s.user.id, device="phone", clock=CLOCK
    )
    _token, tablet = web_sessions.start(
        session, data="{}", user_id=s.user.id, device="tablet", clock=CLOCK
    )
    assert isinstance(phone, WebSession) and isinstance(tablet, WebSession)
    request = _begin(session, s.user, "sop", sop.id, "read_and_understood", phone.id)
    before = s.user.signing_failures
    with pytest.raises(SignatureRefused, match="opened in another sign-in"):
        signatures.sign_with_passkey(
            session, signer=s.user, challenge_id=request.challenge_id,
            credential=s.authenticator.get_assertion(request.passkey_options),  # type: ignore[arg-type]
            rp=RP, policy=POLICY, clock=at(NOW), web_session_id=tablet.id,
        )  # fmt: skip
    assert s.user.signing_failures == before + 1  # counted (and audited) as a failed attempt


def test_answering_another_persons_challenge_is_counted_and_audited(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    from tests.conftest import audit_actions

    owner, intruder = make_signer(), make_signer()
    request = _begin(session, owner.user, "sop", sop.id, "read_and_understood")
    with pytest.raises(SignatureRefused, match="belongs to another person"):
        answer_with_passkey(
            session, intruder.user, request.challenge_id,
            intruder.authenticator.get_assertion(request.passkey_options),
        )  # fmt: skip
    assert intruder.user.signing_failures == 1
    assert "signature.failed" in audit_actions(session, entity_id=str(intruder.user.id))


def test_a_rewritten_manifestation_is_shown_as_not_valid_beside_the_record(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    """The page never shows a name or reason the signer did not sign as a valid signature."""
    signature_id = _sign_sop(session, make_signer(full_name="Quinn Adeyemi"), sop)
    assert [s.valid for s in signatures.signatures_for(
        session, record_type="sop", record_id=str(sop.id))] == [True]  # fmt: skip
    _superuser(session)
    session.execute(
        text("UPDATE signature SET printed_name = 'Someone Else' WHERE id = :id"),
        {"id": signature_id},
    )
    session.expire_all()
    shown = signatures.signatures_for(session, record_type="sop", record_id=str(sop.id))
    assert [s.valid for s in shown] == [False]
    assert "not what was signed" in (shown[0].problem or "")
