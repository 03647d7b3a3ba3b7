"""Adapter over py_webauthn: ceremonies in our words, challenges kept single-use in the database.

Library errors become `SignatureRefused` with a sentence a person can act on.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

__all__ = ["base64url_to_bytes", "bytes_to_base64url"]
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorAttachment,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from app.models import Ceremony, Passkey, WebAuthnChallenge
from app.services.core.clock import Clock
from app.services.core.errors import SignatureRefused

CHALLENGE_LIFETIME = timedelta(minutes=5)


@dataclass(frozen=True)
class RelyingParty:
    id: str
    name: str
    origins: tuple[str, ...]


def user_handle(user_id: int) -> bytes:
    """The WebAuthn user.id of a Batchbook user (opaque to the authenticator)."""
    return f"batchbook-user-{user_id}".encode()


def user_id_from_handle(handle: str | None) -> int | None:
    if not handle:
        return None
    try:
        text = base64url_to_bytes(handle).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    prefix = "batchbook-user-"
    return (
        int(text[len(prefix) :])
        if text.startswith(prefix) and text[len(prefix) :].isdigit()
        else None
    )


def issue_challenge(
    session: Session,
    *,
    ceremony: Ceremony,
    user_id: int | None,
    clock: Clock,
    raw: bytes | None = None,
    payload: str | None = None,
    web_session_id: int | None = None,
) -> WebAuthnChallenge:
    """Store a new challenge (random, or `raw` when it is the hash of what is being signed),
    bound to the browser session that asked for it, when there is one."""
    now = clock.now()
    row = WebAuthnChallenge(
        ceremony=ceremony.value,
        user_id=user_id,
        web_session_id=web_session_id,
        challenge=bytes_to_base64url(raw or secrets.token_bytes(32)),
        payload=payload,
        created_at=now,
        expires_at=now + CHALLENGE_LIFETIME,
    )
    session.add(row)
    session.flush()
    return row


class PasskeyCopied(SignatureRefused):
    """A genuine assertion whose sign count did not increase: a clone of the key exists."""


class ChallengeUsed(SignatureRefused):
    """The challenge was answered before (a replay, or the same answer sent twice)."""

    def __init__(self, message: str, *, challenge: WebAuthnChallenge) -> None:
        super().__init__(message)
        self.challenge = challenge


def consume_challenge(
    session: Session,
    *,
    challenge_id: int,
    ceremony: Ceremony,
    user_id: int | None,
    clock: Clock,
    web_session_id: int | None = None,
) -> WebAuthnChallenge:
    """Mark a challenge used; refuse one that is unknown, someone else's, used or expired.

    Raises:
        SignatureRefused: the challenge cannot be used.
    """
    now = clock.now()
    # Locked: the same answer sent twice at once is decided once; the copy waits, then finds
    # the challenge used.
    row = session.get(WebAuthnChallenge, challenge_id, with_for_update=True, populate_existing=True)
    if row is None or row.ceremony != ceremony.value:
        raise SignatureRefused("This signing request is unknown. Start again.")
    if row.user_id is not None and row.user_id != user_id:
        raise SignatureRefused("This signing request belongs to another person.")
    if row.web_session_id is not None and row.web_session_id != web_session_id:
        raise SignatureRefused(
            "This signing request was opened in another sign-in (another device or a session "
            "that has ended). Open the signing dialog again here."
        )
    if row.used_at is not None:
        raise ChallengeUsed(
            "This signing request was already used; a signature cannot be replayed.",
            challenge=row,
        )
    if row.expires_at < now:
        raise SignatureRefused("This signing request expired after 5 minutes. Start again.")
    row.used_at = now
    session.add(row)
    session.flush()
    return row


def registration_options(
    rp: RelyingParty,
    *,
    user_id: int,
    username: str,
    display_name: str,
    challenge: bytes,
    existing: list[Passkey],
    roaming_only: bool,
) -> str:
    """Creation options JSON: resident key preferred, user verification required."""
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle(user_id),
        user_name=username,
        user_display_name=display_name,
        challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
            authenticator_attachment=AuthenticatorAttachment.CROSS_PLATFORM
            if roaming_only
            else None,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in existing
        ],
    )
    return options_to_json(options)


@dataclass(frozen=True)
class NewCredential:
    credential_id: str
    public_key: str
    sign_count: int
    aaguid: str
    attachment: str | None
    transports: tuple[str, ...]

    @property
    def is_platform(self) -> bool:
        """Stored on the device itself (a phone's or laptop's built-in authenticator)."""
        if self.attachment:
            return self.attachment == "platform"
        return "internal" in self.transports


def verify_registration(
    rp: RelyingParty, *, credential: dict[str, Any], challenge: str
) -> NewCredential:
    """Raises SignatureRefused when the browser's answer does not verify."""
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
            require_user_verification=True,
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
        raise SignatureRefused(f"The passkey could not be registered: {exc}") from exc
    response = credential.get("response") or {}
    return NewCredential(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=bytes_to_base64url(verified.credential_public_key),
        sign_count=verified.sign_count,
        aaguid=str(verified.aaguid),
        attachment=credential.get("authenticatorAttachment"),
        transports=tuple(str(t) for t in response.get("transports") or ()),
    )


def authentication_options(rp: RelyingParty, *, challenge: bytes, allowed: list[Passkey]) -> str:
    """Request options JSON; an empty `allowed` lets the user pick a discoverable passkey."""
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in allowed
        ],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options)


@dataclass(frozen=True)
class Assertion:
    """The parts of a WebAuthn assertion we keep so anyone can re-verify it later."""

    credential_id: str
    authenticator_data: str
    client_data_json: str
    signature: str
    user_handle: str | None

    @classmethod
    def parse(cls, credential: dict[str, Any]) -> Assertion:
        """Raises SignatureRefused when the browser's answer is not an assertion."""
        try:
            response = credential["response"]
            return cls(
                credential_id=str(credential["id"]),
                authenticator_data=str(response["authenticatorData"]),
                client_data_json=str(response["clientDataJSON"]),
                signature=str(response["signature"]),
                user_handle=response.get("userHandle") or None,
            )
        except (KeyError, TypeError) as exc:
            raise SignatureRefused("The browser's answer is not a passkey assertion.") from exc

    def as_credential(self) -> dict[str, Any]:
        return {
            "id": self.credential_id,
            "rawId": self.credential_id,
            "type": "public-key",
            "response": {
                "authenticatorData": self.authenticator_data,
                "clientDataJSON": self.client_data_json,
                "signature": self.signature,
                "userHandle": self.user_handle,
            },
        }


def verify_assertion(
    rp: RelyingParty,
    *,
    assertion: Assertion,
    challenge: str,
    passkey: Passkey,
    check_count: bool = True,
) -> int:
    """Verify signature, origin, RP id, challenge and user verification; returns the new count.

    Raises:
        SignatureRefused: any check failed (the message names which).
    """
    try:
        verified = verify_authentication_response(
            credential=assertion.as_credential(),
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
            credential_public_key=base64url_to_bytes(passkey.public_key),
            credential_current_sign_count=0,  # compared below, once the signature is genuine
            require_user_verification=True,
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as exc:
        raise SignatureRefused(f"The passkey signature was refused: {exc}") from exc
    new, known = verified.new_sign_count, passkey.sign_count
    if check_count and (known > 0 or new > 0) and new <= known:
        # A genuine signature from this key, with a counter that went back: two copies of the
        # key are in use (WebAuthn §6.1.1).
        raise PasskeyCopied(
            "This passkey may have been copied: it reported an older use count "
            f"({new}, last seen {known}). It has been suspended and an admin alerted; "
            "sign with another passkey, or ask an admin."
        )
    return new


def client_data(assertion: Assertion) -> dict[str, Any]:
    return json.loads(base64url_to_bytes(assertion.client_data_json))  # type: ignore[no-any-return]
