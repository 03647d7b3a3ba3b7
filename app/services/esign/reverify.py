"""Re-verification of stored signatures: each passkey assertion against its stored public key,
each content hash against the live record (Part 11 §11.70).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select
from webauthn.helpers import bytes_to_base64url

from app.canonical import canonical_json, sha256_hex
from app.models import Passkey, Signature, SignMethod
from app.services.core.errors import (
    SignatureRefused,
)
from app.services.esign import signable
from app.services.esign import webauthn as wa


@dataclass(frozen=True)
class Finding:
    signature_id: int
    record: str
    problem: str


def reverify(
    session: Session,
    *,
    rp: wa.RelyingParty,
    batch_no: str | None = None,
    record: tuple[str, str] | None = None,
) -> tuple[int, list[Finding]]:
    """Re-check stored signatures: payload hash, content hash against the live record, and each
    passkey assertion against the stored public key. Returns (checked, failures)."""
    query = select(Signature).order_by(col(Signature.id))
    if batch_no is not None:
        query = query.where(Signature.batch_no == batch_no)
    if record is not None:
        query = query.where(Signature.record_type == record[0], Signature.record_id == record[1])
    findings: list[Finding] = []
    checked = 0
    for sig in session.exec(query):
        checked += 1
        label = f"{sig.record_type} {sig.record_id}"
        for problem in _signature_problems(session, sig, rp):
            findings.append(Finding(sig.id, label, problem))  # type: ignore[arg-type]
    return checked, findings


def _signature_problems(session: Session, sig: Signature, rp: wa.RelyingParty) -> list[str]:
    problems = []
    if sha256_hex(sig.payload) != sig.challenge_hash:
        problems.append("the signed payload does not match its hash")
    payload = json.loads(sig.payload)
    content = payload.get("record", {}).get("content", {})
    if sha256_hex(canonical_json(content)) != sig.content_hash:
        problems.append("the stored content hash does not match the signed payload")
    problems.extend(manifestation_problems(sig, payload))
    try:
        live = signable.load(session, sig.record_type, sig.record_id)
        if live.content_hash != sig.content_hash:
            problems.append("the record was changed after it was signed")
    except Exception as exc:  # noqa: BLE001 - a vanished record is itself a finding
        problems.append(f"the signed record cannot be loaded ({exc})")
    if sig.method == SignMethod.PASSKEY.value:
        passkey = session.get(Passkey, sig.passkey_id) if sig.passkey_id else None
        if passkey is None:
            problems.append("its passkey is missing")
        else:
            assertion = wa.Assertion(
                credential_id=sig.credential_id or "",
                authenticator_data=sig.authenticator_data or "",
                client_data_json=sig.client_data_json or "",
                signature=sig.signature or "",
                user_handle=sig.user_handle,
            )
            challenge = bytes_to_base64url(hashlib.sha256(sig.payload.encode()).digest())
            try:
                wa.verify_assertion(
                    _made_under(sig, rp),
                    assertion=assertion,
                    challenge=challenge,
                    passkey=passkey,
                    check_count=False,
                )
            except SignatureRefused as exc:
                problems.append(f"the passkey signature does not verify ({exc.message})")
    return problems


def manifestation_problems(sig: Signature, payload: dict[str, Any] | None = None) -> list[str]:
    """Does what is shown with the signature (meaning, signer, printed name, reason, date) say
    what was signed? Each difference a sentence."""
    if payload is None:
        payload = json.loads(sig.payload)
    problems = []
    signer = payload.get("signer", {})
    if (payload.get("meaning"), signer.get("id")) != (sig.meaning, sig.signer_id):
        problems.append("meaning or signer differ from what was signed")
    if (signer.get("username"), signer.get("printed_name")) != (
        sig.signer_username,
        sig.printed_name,
    ):
        problems.append("the name shown with it is not the name that signed")
    signed_reason = payload.get("reason")
    if signed_reason is not None and (signed_reason.get("code"), signed_reason.get("text")) != (
        sig.reason_code,
        sig.reason_text,
    ):
        problems.append("the reason shown with it is not the reason signed")
    issued = _instant(payload.get("issued_at"))
    if issued is None or not issued <= sig.signed_at <= issued + wa.CHALLENGE_LIFETIME:
        problems.append("its date is not when it was signed")
    return problems


def _made_under(sig: Signature, today: wa.RelyingParty) -> wa.RelyingParty:
    """The relying party the signature was made under (its RP ID and the origins allowed then),
    not today's settings: a host rename must not fail every genuine signature. Signatures from
    before this was kept are checked against today's."""
    if sig.rp_id is None or sig.allowed_origins is None:
        return today
    return wa.RelyingParty(
        id=sig.rp_id, name=today.name, origins=tuple(json.loads(sig.allowed_origins))
    )


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
