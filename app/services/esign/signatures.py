"""The one signing service every feature uses (Part 11 §11.50, §11.70, §11.200).

A signature covers a canonical JSON payload: the record's content, the meaning, the signer and a
server nonce. Its SHA-256 is the WebAuthn challenge, so an assertion is bound to exactly that
record, meaning and person, and cannot be replayed or moved to another record.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.canonical import canonical_json, sha256_hex
from app.models import Ceremony, Meaning, Signature, SignMethod, User
from app.services.accounts.auth import password_matches
from app.services.core import audit
from app.services.core.clock import Clock
from app.services.core.errors import (
    DecisionRefused,
    PermissionDenied,
    Rejected,
    SignatureRefused,
    Violation,
    require,
)
from app.services.core.text import NOTE_LENGTH, read_text
from app.services.esign import passkeys, reverify, signable, signers
from app.services.esign import webauthn as wa

CANONICAL_VERSION = 1


# Rejections and corrections need a coded reason plus free text (DESIGN §6, Annex 11 §9).
REASON_CODES: dict[str, str] = {
    "data_entry_error": "Data entry error",
    "out_of_specification": "Out of specification",
    "wrong_material": "Wrong material or lot",
    "equipment_issue": "Equipment problem",
    "procedure_not_followed": "Procedure not followed",
    "damaged": "Damaged container or packaging",
    "documents": "Certificate of analysis missing or wrong",
    "investigation": "Under investigation",
    "investigation_closed": "Investigation closed",
    "other": "Other (explain in the text)",
}


MEANINGS_NEEDING_REASON = frozenset(
    {Meaning.REJECTED, Meaning.CORRECTED, Meaning.HELD, Meaning.HOLD_LIFTED}
)


@dataclass(frozen=True)
class SigningRequest:
    """What the signing dialog needs: the words, the meaning and the ceremony's options."""

    challenge_id: int
    target: signable.Signable
    meaning: Meaning
    passkey_options: str | None  # WebAuthn request options JSON, when the signer has passkeys
    password_allowed: bool
    reason: tuple[str | None, str | None] = (None, None)  # as signed

    @property
    def reason_label(self) -> str | None:
        code, text = self.reason
        if code is None and text is None:
            return None
        return " — ".join(p for p in (REASON_CODES.get(code or "", code), text) if p)

    @property
    def needs_reason(self) -> bool:
        return self.meaning in MEANINGS_NEEDING_REASON


def _meaning(value: str) -> Meaning:
    try:
        return Meaning(value)
    except ValueError:
        raise Rejected(
            [Violation("meaning.unknown", f"“{value}” is not a signature meaning.")]
        ) from None


def _payload(
    target: signable.Signable,
    meaning: Meaning,
    signer: User,
    now: datetime,
    reason: tuple[str | None, str | None],
) -> str:
    return canonical_json(
        {
            "v": CANONICAL_VERSION,
            "record": {
                "type": target.record_type,
                "id": target.record_id,
                "content": dict(target.content),
                # The governed state the signer saw (status, last change): signed with it, and
                # checked again at submit, so a decision never lands on a state it did not see.
                "state": dict(target.state),
            },
            "meaning": meaning.value,
            # The reason is chosen before the ceremony and signed with the rest (§11.50).
            "reason": {"code": reason[0], "text": reason[1]},
            "signer": {
                "id": signer.id,
                "username": signer.username,
                "printed_name": signer.full_name,
            },
            "nonce": secrets.token_hex(16),
            "issued_at": now,
        }
    )


def begin_signing(
    session: Session,
    *,
    signer: User,
    record_type: str,
    record_id: str,
    meaning: str,
    rp: wa.RelyingParty,
    policy: signers.SigningPolicy,
    clock: Clock,
    web_session_id: int | None = None,
    reason_code: str | None = None,
    reason_text: str | None = None,
) -> SigningRequest:
    """Open a signing ceremony for `signer` on the live record (answerable only from the
    browser session `web_session_id`, when given). A meaning that needs a reason takes it
    here, before the challenge, so the reason is part of what is signed.

    Raises:
        NotFound: no such record. PermissionDenied: the signer may not sign it now (all reasons).
        Rejected: the meaning needs a reason code and text, and they are missing.
    """
    now = clock.now()
    target, chosen = may_sign(session, signer=signer, record_type=record_type,
                              record_id=record_id, meaning=meaning, clock=clock)  # fmt: skip
    reason = _reason(chosen, reason_code, reason_text)
    payload = _payload(target, chosen, signer, now, reason)
    challenge = wa.issue_challenge(
        session,
        ceremony=Ceremony.SIGN,
        user_id=signer.id,
        clock=clock,
        raw=hashlib.sha256(payload.encode()).digest(),
        payload=payload,
        web_session_id=web_session_id,
    )
    keys = passkeys.active_passkeys(session, signer.id)  # type: ignore[arg-type]
    return SigningRequest(
        challenge_id=challenge.id,  # type: ignore[arg-type]
        target=target,
        meaning=chosen,
        passkey_options=wa.authentication_options(
            rp, challenge=hashlib.sha256(payload.encode()).digest(), allowed=keys
        )
        if keys
        else None,
        password_allowed=signers.password_signing_refusal(
            session, signer=signer, policy=policy, clock=clock
        )
        is None,
        reason=reason,
    )


def may_sign(
    session: Session, *, signer: User, record_type: str, record_id: str, meaning: str, clock: Clock
) -> tuple[signable.Signable, Meaning]:
    """The record and meaning, when `signer` may sign it now (before any reason is asked).

    Raises:
        NotFound: no such record. PermissionDenied: the signer may not (all reasons).
        Rejected: not a meaning.
    """
    target = signable.load(session, record_type, record_id)
    chosen = _meaning(meaning)
    problems = signers.signing_violations(
        session, signer=signer, target=target, meaning=chosen, clock=clock
    )
    if problems:
        raise PermissionDenied(" ".join(v.message for v in problems))
    return target, chosen


def _reason(
    meaning: Meaning, reason_code: str | None, reason_text: str | None
) -> tuple[str | None, str | None]:
    code = (reason_code or "").strip() or None
    problems: list[Violation] = []
    text = (
        read_text(
            reason_text, field="reason_text", label="reason", problems=problems,
            limit=NOTE_LENGTH, multiline=True,
        )
        or None
    )  # fmt: skip
    require(problems)
    if meaning not in MEANINGS_NEEDING_REASON:
        return code, text
    require(
        [
            *(
                []
                if code in REASON_CODES
                else [Violation("reason_code.missing", "Choose a reason code.", "reason_code")]
            ),
            *(
                []
                if text
                else [
                    Violation(
                        "reason_text.missing",
                        "Explain the reason in your own words.",
                        "reason_text",
                    )
                ]
            ),
        ]
    )
    return code, text


def _prepare(
    session: Session,
    *,
    signer: User,
    challenge_id: int,
    policy: signers.SigningPolicy,
    clock: Clock,
    web_session_id: int | None,
) -> tuple[str, signable.Signable, Meaning, tuple[str | None, str | None], str]:
    """Consume the challenge and check the record still reads as it did when the dialog opened.
    The challenge is spent by any refusal from here on (it is never answerable twice)."""
    try:
        row = wa.consume_challenge(
            session,
            challenge_id=challenge_id,
            ceremony=Ceremony.SIGN,
            user_id=signer.id,
            clock=clock,
            web_session_id=web_session_id,
        )
    except wa.ChallengeUsed:
        raise  # a copy of an answer already given (or a replay): decided by _prepare_once
    except SignatureRefused as exc:
        # Someone else's challenge, another session's, an expired one: a failed attempt.
        raise SignatureRefused(
            signers.record_failure(
                session, signer=signer, why=exc.message, policy=policy, clock=clock
            )
        ) from exc
    payload = json.loads(row.payload or "{}")
    record = payload["record"]
    meaning = Meaning(payload["meaning"])
    signed_reason = payload.get("reason") or {}
    reason = (signed_reason.get("code"), signed_reason.get("text"))
    target = signable.load(session, record["type"], record["id"])
    if target.lock is not None:
        target.lock(session)  # waits for a decision in flight on the same record, then re-reads
        target = signable.load(session, record["type"], record["id"])
    problems = signers.signing_violations(
        session, signer=signer, target=target, meaning=meaning, clock=clock
    )
    if problems:
        raise DecisionRefused(" ".join(v.message for v in problems))
    if canonical_json(dict(target.content)) != canonical_json(record["content"]) or (
        canonical_json(dict(target.state)) != canonical_json(record.get("state", {}))
    ):
        raise SignatureRefused(
            "The record changed after you opened the signing dialog. Review it and sign again."
        )
    return row.payload or "", target, meaning, reason, row.challenge


def _prepare_once(
    session: Session,
    *,
    signer: User,
    challenge_id: int,
    policy: signers.SigningPolicy,
    clock: Clock,
    web_session_id: int | None,
) -> tuple[str, signable.Signable, Meaning, tuple[str | None, str | None], str]:
    """`_prepare`, saying so plainly when this very request was signed already (the same
    answer sent twice: a double tap, a retry): nothing is signed again."""
    try:
        return _prepare(
            session,
            signer=signer,
            challenge_id=challenge_id,
            policy=policy,
            clock=clock,
            web_session_id=web_session_id,
        )
    except wa.ChallengeUsed as exc:
        first = session.exec(
            select(Signature).where(
                Signature.challenge_hash == sha256_hex(exc.challenge.payload or ""),
                Signature.signer_id == signer.id,
            )
        ).first()
        if first is None:
            raise
        raise SignatureRefused(
            f"{exc.message} This signature was already recorded at "
            f"{clock.local(first.signed_at):%H:%M %Z} ({Meaning(first.meaning).label}, "
            f"{first.printed_name}); nothing was signed again."
        ) from exc


def _store(
    session: Session,
    *,
    signer: User,
    payload_text: str,
    target: signable.Signable,
    meaning: Meaning,
    method: SignMethod,
    reason: tuple[str | None, str | None],
    clock: Clock,
    **evidence: object,
) -> Signature:
    now = clock.now()
    signature = Signature(
        record_type=target.record_type,
        record_id=target.record_id,
        batch_no=target.batch_no,
        meaning=meaning.value,
        signer_id=signer.id,  # type: ignore[arg-type]
        signer_username=signer.username,
        printed_name=signer.full_name,
        signed_at=now,
        method=method.value,
        reason_code=reason[0],
        reason_text=reason[1],
        canonical_version=CANONICAL_VERSION,
        payload=payload_text,
        content_hash=target.content_hash,
        challenge_hash=sha256_hex(payload_text),
        **evidence,  # type: ignore[arg-type]
    )
    session.add(signature)
    session.flush()
    signers.record_success(session, signer=signer)
    audit.record(
        session,
        actor=signer,
        action="signature.created",
        entity_type=target.record_type,
        entity_id=target.record_id,
        after={
            "signature_id": signature.id,
            "meaning": meaning.value,
            "method": method.value,
            "printed_name": signer.full_name,
            "content_hash": signature.content_hash,
        },
        reason=" — ".join(p for p in reason if p) or None,
        clock=clock,
    )
    if target.after_signing is not None:
        target.after_signing(session, signature, clock)
    return signature


def sign_with_passkey(
    session: Session,
    *,
    signer: User,
    challenge_id: int,
    credential: dict[str, object],
    rp: wa.RelyingParty,
    policy: signers.SigningPolicy,
    clock: Clock,
    web_session_id: int | None = None,
) -> Signature:
    """Finish a passkey signing: verify the assertion against this ceremony's challenge.

    Raises:
        SignatureRefused: the assertion, credential, challenge or record does not check out
            (the failed attempt is counted, audited and kept).
        PermissionDenied, Rejected: the signer may not sign, or the reason is missing.
    """
    payload_text, target, meaning, reason, challenge = _prepare_once(
        session,
        signer=signer,
        challenge_id=challenge_id,
        policy=policy,
        clock=clock,
        web_session_id=web_session_id,
    )
    try:
        assertion = wa.Assertion.parse(credential)
        passkey = passkeys.usable_passkey(
            session, credential_id=assertion.credential_id, owner=signer
        )
        handle_owner = wa.user_id_from_handle(assertion.user_handle)
        if assertion.user_handle and handle_owner != signer.id:
            raise SignatureRefused("This passkey belongs to another person.")
        new_count = wa.verify_assertion(
            rp, assertion=assertion, challenge=challenge, passkey=passkey
        )
    except wa.PasskeyCopied as exc:
        # Not the owner's failed attempt: the copy is suspended, the admins alerted.
        passkeys.suspend_copied(session, passkey=passkey, why=exc.message, clock=clock)
        raise
    except SignatureRefused as exc:
        raise SignatureRefused(
            signers.record_failure(
                session, signer=signer, why=exc.message, policy=policy, clock=clock
            )
        ) from exc
    passkeys.record_use(session, passkey=passkey, sign_count=new_count, clock=clock)
    return _store(
        session,
        signer=signer,
        payload_text=payload_text,
        target=target,
        meaning=meaning,
        method=SignMethod.PASSKEY,
        reason=reason,
        clock=clock,
        passkey_id=passkey.id,
        credential_id=assertion.credential_id,
        authenticator_data=assertion.authenticator_data,
        client_data_json=assertion.client_data_json,
        signature=assertion.signature,
        user_handle=assertion.user_handle,
        sign_count=new_count,
        rp_id=rp.id,
        allowed_origins=json.dumps(list(rp.origins)),
    )


def sign_with_password(
    session: Session,
    *,
    signer: User,
    challenge_id: int,
    username: str,
    password: str,
    policy: signers.SigningPolicy,
    clock: Clock,
    web_session_id: int | None = None,
) -> Signature:
    """Finish a signing with both components re-entered: user ID and password (§11.200(a)).

    Raises:
        PermissionDenied: password signing is off for this plant, or the signer may not sign.
        SignatureRefused: wrong user ID or password (counted, audited, kept).
        Rejected: a required reason is missing.
    """
    refusal = signers.password_signing_refusal(session, signer=signer, policy=policy, clock=clock)
    if refusal is not None:
        raise PermissionDenied(refusal)
    payload_text, target, meaning, reason, _challenge = _prepare_once(
        session,
        signer=signer,
        challenge_id=challenge_id,
        policy=policy,
        clock=clock,
        web_session_id=web_session_id,
    )
    if username.strip().lower() != signer.username or not password_matches(
        signer.password_hash, password
    ):
        why = "The user ID or password is not correct."
        raise SignatureRefused(
            signers.record_failure(session, signer=signer, why=why, policy=policy, clock=clock)
        )
    return _store(
        session,
        signer=signer,
        payload_text=payload_text,
        target=target,
        meaning=meaning,
        method=SignMethod.PASSWORD,
        reason=reason,
        clock=clock,
    )


@dataclass(frozen=True)
class ShownSignature:
    """A signature as shown beside its record: the manifestation plus whether it still holds."""

    signature: Signature
    valid: bool
    problem: str | None = None

    @property
    def meaning_label(self) -> str:
        return Meaning(self.signature.meaning).label


def signatures_for(session: Session, *, record_type: str, record_id: str) -> list[ShownSignature]:
    """Every signature on a record, oldest first, each checked against the live record."""
    rows = list(
        session.exec(
            select(Signature)
            .where(Signature.record_type == record_type, Signature.record_id == record_id)
            .order_by(col(Signature.id))
        )
    )
    if not rows:
        return []
    live_hash = signable.load(session, record_type, record_id).content_hash
    return [_shown(s, live_hash) for s in rows]


def _shown(signature: Signature, live_hash: str) -> ShownSignature:
    if reverify.manifestation_problems(signature):
        return ShownSignature(
            signature,
            False,
            "What is shown with this signature is not what was signed (name, reason or date "
            "changed behind the app's back). QA must investigate.",
        )
    if signature.content_hash != live_hash:
        return ShownSignature(
            signature,
            False,
            "The record changed after this signature; it is no longer valid until signed again.",
        )
    return ShownSignature(signature, True)
