"""The signing service: canonical binding, replay, revocation, sign counts, password signing,
reasons, lockout, manifestation snapshot, invalidation on change, re-verification."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select
from webauthn.helpers import bytes_to_base64url

from app.canonical import canonical_json, sha256_hex
from app.models import Alert, DocumentRevision, Meaning, Signature, User
from app.services.accounts import users
from app.services.core.errors import PermissionDenied, Rejected, SignatureRefused
from app.services.esign import passkeys, reverify, signable, signatures, signers
from app.services.masterdata import documents
from tests.clock import CLOCK, at
from tests.conftest import PASSWORD, audit_actions, behind_the_apps_back
from tests.signing import (
    NOW,
    POLICY,
    RP,
    Signer,
    answer_with_passkey,
    effective_sop,
    rewrite_sop_text,
)


def begin(
    session: Session,
    signer: User,
    sop: DocumentRevision,
    meaning: str = "read_and_understood",
    now=NOW,
):  # type: ignore[no-untyped-def]
    return signatures.begin_signing(
        session,
        signer=signer,
        record_type="sop",
        record_id=str(sop.id),
        meaning=meaning,
        rp=RP,
        policy=POLICY,
        clock=at(now),
    )


def sign(session: Session, s: Signer, sop: DocumentRevision) -> Signature:
    request = begin(session, s.user, sop)
    return answer_with_passkey(
        session,
        s.user,
        request.challenge_id,
        s.authenticator.get_assertion(request.passkey_options),
    )


def test_challenge_is_the_hash_of_the_canonical_record_meaning_signer_and_nonce(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    s = make_signer()
    request = begin(session, s.user, sop)
    options = json.loads(request.passkey_options or "{}")
    row = session.get(
        __import__("app.models", fromlist=["WebAuthnChallenge"]).WebAuthnChallenge,
        request.challenge_id,
    )
    payload = json.loads(row.payload)  # type: ignore[union-attr]
    assert row.payload == canonical_json(payload)  # stored canonically: sorted, no whitespace
    assert options["challenge"] == bytes_to_base64url(hashlib.sha256(row.payload.encode()).digest())  # type: ignore[union-attr]
    assert payload["record"] == {
        "type": "sop",
        "id": str(sop.id),
        "content": {
            "code": "SOP-QA-001",
            "title": "Good documentation practice",
            "revision": "3",
            "body": "Record entries at the time of the activity.",
        },
        # What the signer saw of its state: effective, as of its last audited change.
        "state": {"status": "effective", "last_change": payload["record"]["state"]["last_change"]},
    }
    assert payload["meaning"] == "read_and_understood"
    assert payload["signer"] == {
        "id": s.user.id,
        "username": s.user.username,
        "printed_name": s.user.full_name,
    }
    assert len(payload["nonce"]) == 32
    assert options["userVerification"] == "required"
    assert [c["id"] for c in options["allowCredentials"]] == [s.passkey.credential_id]


def test_passkey_signature_stores_the_whole_assertion_and_manifestation(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    s = make_signer(full_name="Quinn Adeyemi")
    sig = sign(session, s, sop)
    assert sig.method == "passkey"
    assert sig.printed_name == "Quinn Adeyemi"
    assert sig.meaning == Meaning.READ_AND_UNDERSTOOD
    assert sig.signed_at == NOW
    assert sig.credential_id == s.passkey.credential_id
    assert sig.authenticator_data and sig.client_data_json and sig.signature
    assert sig.challenge_hash == sha256_hex(sig.payload)
    assert sig.content_hash == signable.load(session, "sop", str(sop.id)).content_hash
    assert s.passkey.sign_count == s.authenticator.counter
    assert s.passkey.last_used_at == NOW
    assert audit_actions(session, entity_type="sop")[-1] == "signature.created"


def test_assertion_for_one_record_does_not_sign_another(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision, admin: User
) -> None:
    s = make_signer()
    other = effective_sop(session, admin, code="SOP-QA-002", title="Other", revision="1", body="x")
    for_sop = begin(session, s.user, sop)
    for_other = begin(session, s.user, other)
    assertion = s.authenticator.get_assertion(for_sop.passkey_options)
    with pytest.raises(SignatureRefused, match="challenge"):
        answer_with_passkey(session, s.user, for_other.challenge_id, assertion)
    assert session.exec(select(Signature).where(Signature.record_type == "sop")).all() == []


def test_assertion_for_one_meaning_does_not_sign_another(
    session: Session, make_signer: Callable[..., Signer]
) -> None:
    s = make_signer()
    ack_request = (
        signatures.begin_signing
    )  # the only other meaning available to sign: a test record
    del ack_request
    first = signatures.begin_signing(
        session,
        signer=s.user,
        record_type="test_record",
        record_id="1",
        meaning="reviewed",
        rp=RP,
        policy=POLICY,
        clock=at(NOW),
    )
    second = signatures.begin_signing(
        session,
        signer=s.user,
        record_type="test_record",
        record_id="1",
        meaning="approved",
        rp=RP,
        policy=POLICY,
        clock=at(NOW),
    )
    assertion = s.authenticator.get_assertion(first.passkey_options)
    with pytest.raises(SignatureRefused, match="challenge"):
        answer_with_passkey(session, s.user, second.challenge_id, assertion)


def test_assertion_of_one_user_does_not_sign_for_another(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    alice, bob = make_signer(username="alice"), make_signer(username="bob")
    alice_request = begin(session, alice.user, sop)
    bob_request = begin(session, bob.user, sop)
    alice_assertion = alice.authenticator.get_assertion(alice_request.passkey_options)
    with pytest.raises(SignatureRefused, match="another person"):  # Bob submits Alice's assertion
        answer_with_passkey(session, bob.user, bob_request.challenge_id, alice_assertion)
    with pytest.raises(SignatureRefused, match="another person"):  # Bob finishes Alice's ceremony
        answer_with_passkey(session, bob.user, alice_request.challenge_id, alice_assertion)


def test_replayed_assertion_is_refused(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    s = make_signer()
    request = begin(session, s.user, sop)
    assertion = s.authenticator.get_assertion(request.passkey_options)
    answer_with_passkey(session, s.user, request.challenge_id, assertion)
    with pytest.raises(SignatureRefused, match="already used"):
        answer_with_passkey(session, s.user, request.challenge_id, assertion)
    fresh = begin(session, s.user, sop)  # same record and meaning, new nonce: old assertion useless
    with pytest.raises(SignatureRefused, match="challenge"):
        answer_with_passkey(session, s.user, fresh.challenge_id, assertion)
    assert len(session.exec(select(Signature).where(Signature.record_type == "sop")).all()) == 1


def test_expired_ceremony_is_refused(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    s = make_signer()
    request = begin(session, s.user, sop)
    with pytest.raises(SignatureRefused, match="expired"):
        answer_with_passkey(
            session,
            s.user,
            request.challenge_id,
            s.authenticator.get_assertion(request.passkey_options),
            clock=at(NOW + timedelta(minutes=6)),
        )


def test_revoked_passkey_cannot_sign(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    s = make_signer()
    request = begin(session, s.user, sop)
    passkeys.revoke_passkey(
        session, actor=s.user, passkey_id=s.passkey.id, reason="phone lost", clock=at(NOW)
    )  # type: ignore[arg-type]
    with pytest.raises(SignatureRefused, match="revoked"):
        answer_with_passkey(
            session,
            s.user,
            request.challenge_id,
            s.authenticator.get_assertion(
                challenge_b64=json.loads(request.passkey_options or "{}")["challenge"]
            ),
        )


def test_sign_count_that_does_not_increase_is_refused(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    """A cloned passkey is treated as one (issue 10 point 4): named, suspended, the admins
    alerted, and not counted against its owner, who did nothing wrong."""
    s = make_signer()
    sign(session, s, sop)
    s.authenticator.counter = 0  # a cloned authenticator would report an old count
    request = begin(session, s.user, sop)
    failures_before = s.user.signing_failures
    with pytest.raises(SignatureRefused, match="This passkey may have been copied"):
        answer_with_passkey(
            session,
            s.user,
            request.challenge_id,
            s.authenticator.get_assertion(request.passkey_options),
        )
    session.refresh(s.passkey)
    assert s.passkey.revoked_at is not None and "copied" in (s.passkey.revoke_reason or "")
    assert s.user.signing_failures == failures_before
    alert = session.exec(select(Alert).where(Alert.kind == "passkey.copied")).one()
    assert alert.user_id == s.user.id
    assert "passkey.suspended_copied" in audit_actions(session, entity_id=str(s.user.id))
    # The suspended key signs nothing more, not even with a fresh count.
    s.authenticator.counter = 100
    again = begin(session, s.user, sop)
    assert again.passkey_options is None  # no active passkey left to offer


def test_assertion_without_user_verification_is_refused(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    s = make_signer()
    s.authenticator.user_verified = False
    request = begin(session, s.user, sop)
    with pytest.raises(SignatureRefused, match="[Uu]ser verification"):
        answer_with_passkey(
            session,
            s.user,
            request.challenge_id,
            s.authenticator.get_assertion(request.passkey_options),
        )


def test_password_signing_needs_both_components_each_time(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    s = make_signer(with_passkey=False)
    request = begin(session, s.user, sop)
    with pytest.raises(SignatureRefused, match="user ID or password"):
        signatures.sign_with_password(
            session,
            signer=s.user,
            challenge_id=request.challenge_id,
            username="admin1",
            password=PASSWORD,
            policy=POLICY,
            clock=at(NOW),
        )
    request = begin(session, s.user, sop)
    sig = signatures.sign_with_password(
        session,
        signer=s.user,
        challenge_id=request.challenge_id,
        username=s.user.username,
        password=PASSWORD,
        policy=POLICY,
        clock=at(NOW),
    )
    assert sig.method == "password"
    assert sig.credential_id is None


def test_plant_can_switch_password_signing_off(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    s = make_signer()
    request = begin(session, s.user, sop)
    off = signers.SigningPolicy(password_signing=False)
    with pytest.raises(PermissionDenied, match="passkeys only"):
        signatures.sign_with_password(
            session,
            signer=s.user,
            challenge_id=request.challenge_id,
            username=s.user.username,
            password=PASSWORD,
            policy=off,
            clock=at(NOW),
        )


def test_repeated_failures_lock_signing_and_alert_admins(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision, admin: User
) -> None:
    s = make_signer(with_passkey=False)
    for _ in range(POLICY.max_failures):
        request = begin(session, s.user, sop)
        with pytest.raises(SignatureRefused) as refused:
            signatures.sign_with_password(
                session,
                signer=s.user,
                challenge_id=request.challenge_id,
                username=s.user.username,
                password="wrong",
                policy=POLICY,
                clock=at(NOW),
            )
    assert "admin has been alerted" in refused.value.message
    assert refused.value.keeps_changes  # the boundary commits the evidence of the failures
    alerts = signers.open_alerts(session, viewer=admin)
    assert [a.kind for a in alerts] == ["signing.locked"]
    assert s.user.username in alerts[0].message
    with pytest.raises(PermissionDenied, match=r"locked .* \(until \d\d:\d\d CET\)"):
        begin(session, s.user, sop)  # the plant's time, not UTC
    signers.unlock_signing(
        session, actor=admin, user_id=s.user.id, reason="verified by phone", clock=at(NOW)
    )  # type: ignore[arg-type]
    assert begin(session, s.user, sop).challenge_id
    assert audit_actions(session, action="signature.failed") == ["signature.failed"] * 3


def test_signing_needs_identity_check_and_acknowledgement(
    session: Session, make_user: Callable[..., User], admin: User, sop: DocumentRevision
) -> None:
    user = make_user("qa")
    with pytest.raises(PermissionDenied, match="not active for you yet"):
        begin(session, user, sop)
    with pytest.raises(PermissionDenied, match="identity"):
        signatures.begin_signing(
            session,
            signer=user,
            record_type=signers.ACKNOWLEDGEMENT,
            record_id=str(user.id),
            meaning="acknowledged",
            rp=RP,
            policy=POLICY,
            clock=at(NOW),
        )
    with pytest.raises(PermissionDenied, match="cannot verify your own"):
        signers.record_identity_check(
            session,
            actor=admin,
            user_id=admin.id,
            document_type="passport",
            document_reference="1",
            clock=at(NOW),
        )  # type: ignore[arg-type]
    signers.record_identity_check(
        session,
        actor=admin,
        user_id=user.id,
        document_type="passport",
        document_reference="P1",
        clock=at(NOW),
    )  # type: ignore[arg-type]
    from tests.signing import acknowledge

    acknowledge(session, user)
    assert signers.status(session, user, clock=CLOCK).active
    assert begin(session, user, sop).passkey_options is None  # no passkey: password only
    with pytest.raises(PermissionDenied, match="already signed the acknowledgement"):
        signatures.begin_signing(
            session,
            signer=user,
            record_type=signers.ACKNOWLEDGEMENT,
            record_id=str(user.id),
            meaning="acknowledged",
            rp=RP,
            policy=POLICY,
            clock=at(NOW),
        )


def test_rejection_needs_a_reason_code_and_text(
    session: Session, make_signer: Callable[..., Signer]
) -> None:
    """The reason comes before the ceremony (no challenge without it), so it is signed."""
    s = make_signer(with_passkey=False)

    def begin_rejection(**reason: str) -> signatures.SigningRequest:
        return signatures.begin_signing(
            session, signer=s.user, record_type="test_record", record_id="1",
            meaning="rejected", rp=RP, policy=POLICY, clock=at(NOW), **reason,  # type: ignore[arg-type]
        )  # fmt: skip

    with pytest.raises(Rejected) as caught:
        begin_rejection()
    assert {v.field for v in caught.value.violations} == {"reason_code", "reason_text"}
    request = begin_rejection(reason_code="out_of_specification", reason_text="Assay 97 %")
    assert request.needs_reason and request.reason_label == "Out of specification — Assay 97 %"
    signature = signatures.sign_with_password(
        session, signer=s.user, challenge_id=request.challenge_id, username=s.user.username,
        password=PASSWORD, policy=POLICY, clock=at(NOW),
    )  # fmt: skip
    assert (signature.reason_code, signature.reason_text) == ("out_of_specification", "Assay 97 %")
    assert json.loads(signature.payload)["reason"] == {
        "code": "out_of_specification",
        "text": "Assay 97 %",
    }


def test_role_is_checked_per_meaning(session: Session, make_signer: Callable[..., Signer]) -> None:
    operator = make_signer("operator")
    with pytest.raises(PermissionDenied, match="Only QA can sign “Approved”"):
        signatures.begin_signing(
            session,
            signer=operator.user,
            record_type="test_record",
            record_id="1",
            meaning="approved",
            rp=RP,
            policy=POLICY,
            clock=at(NOW),
        )


def test_renaming_the_signer_never_changes_an_old_signature(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision, admin: User
) -> None:
    s = make_signer(full_name="Quinn Adeyemi")
    sig = sign(session, s, sop)
    s.user.full_name = "Quinn Adeyemi-Smith"
    session.add(s.user)
    session.flush()
    shown = signatures.signatures_for(session, record_type="sop", record_id=str(sop.id))
    assert [x.signature.printed_name for x in shown] == ["Quinn Adeyemi"]
    assert shown[0].valid
    assert sig.id == shown[0].signature.id


def test_changed_record_shows_its_signature_invalid_and_fails_reverification(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision, admin: User
) -> None:
    s = make_signer()
    sig = sign(session, s, sop)
    checked, findings = reverify.reverify(session, rp=RP, record=("sop", str(sop.id)))
    assert (checked, findings) == (1, [])
    rewrite_sop_text(session, sop.id, "Record entries later.")
    shown = signatures.signatures_for(session, record_type="sop", record_id=str(sop.id))
    assert not shown[0].valid
    assert "no longer valid" in (shown[0].problem or "")
    checked, findings = reverify.reverify(session, rp=RP, record=("sop", str(sop.id)))
    assert [(f.signature_id, f.problem) for f in findings] == [
        (sig.id, "the record was changed after it was signed")
    ]
    sign(session, s, sop)  # signed again: the new signature holds
    assert [
        x.valid
        for x in signatures.signatures_for(session, record_type="sop", record_id=str(sop.id))
    ] == [False, True]


def test_record_changed_while_the_dialog_was_open_is_refused(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision, admin: User
) -> None:
    s = make_signer()
    clock = at(NOW)
    draft = documents.start_revision(session, actor=admin, document_id=sop.document_id, clock=clock)
    documents.submit_for_review(session, actor=admin, revision_id=draft.id, clock=clock)  # type: ignore[arg-type]
    request = begin(session, s.user, draft, meaning="approved")
    # Meanwhile the author takes it back and changes the text the approver is reading.
    documents.return_to_draft(
        session,
        actor=admin,
        revision_id=draft.id,
        reason="typo",
        clock=clock,  # type: ignore[arg-type]
    )
    documents.edit_draft(session, actor=admin, revision_id=draft.id, body="New text.", clock=clock)  # type: ignore[arg-type]
    documents.submit_for_review(session, actor=admin, revision_id=draft.id, clock=clock)  # type: ignore[arg-type]
    with pytest.raises(SignatureRefused, match="changed after you opened"):
        answer_with_passkey(
            session,
            s.user,
            request.challenge_id,
            s.authenticator.get_assertion(request.passkey_options),
        )


def test_reverification_catches_a_forged_assertion(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    s = make_signer()
    sig = sign(session, s, sop)
    other = sign(session, s, sop)
    # Behind the app's back (superuser, trigger dropped): graft one signature's bytes onto another.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET ROLE NONE"))
        session.execute(text("DROP TRIGGER signature_guard ON signature"))
    else:
        session.execute(text("DROP TRIGGER signature_no_update"))
    session.execute(
        text("UPDATE signature SET signature = :s WHERE id = :id"),
        {"s": other.signature, "id": sig.id},
    )
    session.expire_all()
    _checked, findings = reverify.reverify(session, rp=RP)
    assert [f.signature_id for f in findings] == [sig.id]
    assert "does not verify" in findings[0].problem


def test_signatures_cannot_be_changed_or_deleted(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    from sqlalchemy.exc import DBAPIError

    s = make_signer()
    sign(session, s, sop)
    for statement in ("UPDATE signature SET printed_name = 'X'", "DELETE FROM signature"):
        with (
            behind_the_apps_back(session),
            pytest.raises(DBAPIError, match="append-only"),
            session.begin_nested(),
        ):
            session.execute(text(statement))


__all__ = ["Alert", "users"]


def test_a_person_with_a_passkey_cannot_sidestep_it_with_a_password_unless_allowed(
    session: Session, make_signer: Callable[..., Signer], sop: DocumentRevision, admin: User
) -> None:
    """Password signing is a fallback, not a bypass (issue 10 point 7): refused while the
    person holds an active passkey, until an admin allows it for some hours, with a reason."""
    s = make_signer()
    request = begin(session, s.user, sop)
    assert not request.password_allowed
    with pytest.raises(PermissionDenied, match="You have a passkey: sign with it"):
        signatures.sign_with_password(
            session, signer=s.user, challenge_id=request.challenge_id, username=s.user.username,
            password=PASSWORD, policy=POLICY, clock=at(NOW),
        )  # fmt: skip
    with pytest.raises(PermissionDenied, match="Another admin"):
        signers.allow_password_signing(
            session,
            actor=admin,
            user_id=admin.id,
            hours="8",
            reason="x",
            clock=at(NOW),  # type: ignore[arg-type]
        )
    with pytest.raises(Rejected, match="number of hours"):
        signers.allow_password_signing(
            session, actor=admin, user_id=s.user.id, hours="500", reason="Phone lost",  # type: ignore[arg-type]
            clock=at(NOW),
        )  # fmt: skip
    signers.allow_password_signing(
        session, actor=admin, user_id=s.user.id, hours="8", reason="Phone lost",  # type: ignore[arg-type]
        clock=at(NOW),
    )  # fmt: skip
    request = begin(session, s.user, sop)
    assert request.password_allowed
    signature = signatures.sign_with_password(
        session, signer=s.user, challenge_id=request.challenge_id, username=s.user.username,
        password=PASSWORD, policy=POLICY, clock=at(NOW + timedelta(minutes=1)),
    )  # fmt: skip
    assert signature.method == "password"
    assert "signing.password_allowed" in audit_actions(session, entity_id=str(s.user.id))
    # Eight hours later the exception has lapsed.
    later = begin(session, s.user, sop, now=NOW + timedelta(hours=8, minutes=1))
    assert not later.password_allowed
