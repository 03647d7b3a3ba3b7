"""Quantities typed by people, read into exact decimals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from app.services.core.errors import Violation


def parse_quantity(raw: str, problems: list[Violation], field: str = "quantity") -> Decimal | None:
    try:
        value = Decimal((raw or "").strip().replace(",", "."))
    except InvalidOperation:
        problems.append(Violation(f"{field}.number", "Enter the quantity as a number.", field))
        return None
    if not value.is_finite() or value <= 0:
        problems.append(Violation(f"{field}.range", "The quantity must be more than zero.", field))
        return None
    return value
