"""Electronic signatures (Part 11): passkeys, devices, ceremonies, signatures, alerts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text
from sqlmodel import Field

from app.models.base import SQLModel


class Meaning(StrEnum):
    """What a signature means; the words are shown wherever the signature is (§11.50(a)(3))."""

    AUTHORED = "authored"
    PERFORMED = "performed"
    VERIFIED = "verified"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    RELEASED = "released"
    REJECTED = "rejected"
    CORRECTED = "corrected"
    READ_AND_UNDERSTOOD = "read_and_understood"
    ACKNOWLEDGED = "acknowledged"
    HELD = "held"
    HOLD_LIFTED = "hold_lifted"

    @property
    def label(self) -> str:
        return {"held": "Put on hold"}.get(self.value, self.value.replace("_", " ").capitalize())


class SignMethod(StrEnum):
    PASSKEY = "passkey"
    PASSWORD = "password"  # noqa: S105 - a method name, not a secret


class Device(SQLModel, table=True):
    """A browser an admin registered (cookie-bound); floor handhelds are marked shared."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)  # sha256 of the cookie's random token
    name: str = Field(max_length=120)
    shared: bool = Field(default=False)
    registered_by_id: int = Field(foreign_key="user_account.id")
    registered_at: datetime


class Passkey(SQLModel, table=True):
    """A WebAuthn credential of one user. Revoked, never deleted."""

    __table_args__ = (Index("ix_passkey_user", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id")
    credential_id: str = Field(max_length=1400, unique=True)  # base64url
    public_key: str = Field(sa_column=Column(Text, nullable=False))  # base64url COSE key
    sign_count: int = Field(default=0)
    name: str = Field(max_length=80)
    attachment: str | None = Field(default=None, max_length=20)  # platform / cross-platform
    transports: str = Field(default="", max_length=120)
    aaguid: str = Field(default="", max_length=36)
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    revoke_reason: str | None = Field(default=None, max_length=500)


class Ceremony(StrEnum):
    REGISTER = "register"
    LOGIN = "login"
    SIGN = "sign"


class WebAuthnChallenge(SQLModel, table=True):
    """A single-use, expiring challenge kept in the database (any worker can finish it)."""

    __tablename__ = "webauthn_challenge"

    id: int | None = Field(default=None, primary_key=True)
    ceremony: str = Field(max_length=20)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    challenge: str = Field(max_length=128, unique=True)  # base64url of the raw challenge bytes
    payload: str | None = Field(default=None, sa_column=Column(Text))  # canonical JSON to sign
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    # The browser session that began it: only that session may answer it.
    web_session_id: int | None = Field(default=None, foreign_key="web_session.id")


class Signature(SQLModel, table=True):
    """One electronic signature, bound to the exact content it signed (§11.70)."""

    __table_args__ = (Index("ix_signature_record", "record_type", "record_id"),)

    id: int | None = Field(default=None, primary_key=True)
    record_type: str = Field(max_length=60)
    record_id: str = Field(max_length=120)
    batch_no: str | None = Field(default=None, max_length=60, index=True)
    meaning: str = Field(max_length=40)
    signer_id: int = Field(foreign_key="user_account.id")
    signer_username: str = Field(max_length=64)
    printed_name: str = Field(max_length=200)  # copied at signing (§11.50), never joined
    signed_at: datetime
    method: str = Field(max_length=20)
    reason_code: str | None = Field(default=None, max_length=40)
    reason_text: str | None = Field(default=None, sa_column=Column(Text))
    canonical_version: int = Field(default=1)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON that was signed
    content_hash: str = Field(max_length=64)  # sha256 of the record content alone
    challenge_hash: str = Field(max_length=64, unique=True)  # sha256 of payload; a replay collides
    passkey_id: int | None = Field(default=None, foreign_key="passkey.id")
    credential_id: str | None = Field(default=None, max_length=1400)
    authenticator_data: str | None = Field(default=None, sa_column=Column(Text))  # base64url
    client_data_json: str | None = Field(default=None, sa_column=Column(Text))  # base64url
    signature: str | None = Field(default=None, sa_column=Column(Text))  # base64url
    user_handle: str | None = Field(default=None, max_length=200)
    sign_count: int | None = None
    # What the assertion was checked against when it was made, so a later host rename or port
    # change never turns a genuine signature into a failure on re-verification.
    rp_id: str | None = Field(default=None, max_length=253)
    allowed_origins: str | None = Field(default=None, max_length=1000)  # JSON list


class IdentityCheck(SQLModel, table=True):
    """An admin's record that they verified a person's identity before e-signing (§11.100(b))."""

    __tablename__ = "identity_check"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    # A named admin; None when the server's operator recorded it through the CLI (the first
    # admin of a new plant), whose OS identity is in the audit trail.
    verified_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    verifier_name: str = Field(max_length=200)
    document_type: str = Field(max_length=80)
    document_reference: str = Field(max_length=120)
    verified_at: datetime


class EnrolmentLink(SQLModel, table=True):
    """A one-time passkey enrolment link that only its user can redeem (two-person enrolment)."""

    __tablename__ = "enrolment_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    issued_by_id: int = Field(foreign_key="user_account.id")
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None = None
    # A newer link for the same person replaces this one: only the latest link can enrol.
    replaced_at: datetime | None = None


class Alert(SQLModel, table=True):
    """Something admins must see now (e.g. repeated failed signing: §11.300(d))."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=60)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    message: str = Field(max_length=500)
    raised_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by_id: int | None = Field(default=None, foreign_key="user_account.id")
