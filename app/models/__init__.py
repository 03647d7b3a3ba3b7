"""SQLModel tables: data and constraints only. Importing this package registers every table."""

from __future__ import annotations

from app.models.audit import AuditEvent
from app.models.base import metadata
from app.models.document import Document
from app.models.esign import (
    Alert,
    Ceremony,
    Device,
    EnrolmentLink,
    IdentityCheck,
    Meaning,
    Passkey,
    Signature,
    SignMethod,
    WebAuthnChallenge,
)
from app.models.user import Role, User

__all__ = [
    "Alert",
    "AuditEvent",
    "Ceremony",
    "Device",
    "Document",
    "EnrolmentLink",
    "IdentityCheck",
    "Meaning",
    "Passkey",
    "Role",
    "SignMethod",
    "Signature",
    "User",
    "WebAuthnChallenge",
    "metadata",
]
