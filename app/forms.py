"""Turning form text into typed values, with the sentence to show beside the field."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from app.services.core.errors import Rejected, Violation


def parse_date(raw: str, field: str, label: str, *, required: bool = True) -> date | None:
    """A YYYY-MM-DD date (what <input type=date> sends). Raises Rejected naming the field."""
    text = (raw or "").strip()
    if not text:
        if required:
            raise Rejected([Violation(f"{field}.empty", f"Enter the {label}.", field)])
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Rejected(
            [Violation(f"{field}.format", f"The {label} must be a date (YYYY-MM-DD).", field)]
        ) from None


def parse_local_datetime(raw: str, field: str, label: str, zone: object) -> datetime | None:
    """A datetime-local value in the plant's zone, as UTC; empty means "now" (None)."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise Rejected(
            [Violation(f"{field}.format", f"The {label} must be a date and time.", field)]
        ) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone)  # type: ignore[arg-type]
    return local.astimezone(UTC)


def new_key() -> str:
    """A floor form's one-time key: the same form submitted twice is recorded once."""
    return uuid.uuid4().hex
