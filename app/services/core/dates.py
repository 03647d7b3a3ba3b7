"""Dates typed by people: a date absurdly far ahead is a typing error, never a plan."""

from __future__ import annotations

from datetime import date

from app.services.core.errors import Violation

HORIZON_YEARS = 20


def too_far_ahead(
    day: date | None,
    *,
    today: date,
    field: str,
    label: str,
    problems: list[Violation],
    years: int = HORIZON_YEARS,
) -> bool:
    """Whether `day` lies more than `years` after `today` (the plant's date from the service's
    clock); if so, the reason is added to `problems`."""
    if day is None:
        return False
    try:
        horizon = today.replace(year=today.year + years)
    except ValueError:  # 29 February
        horizon = today.replace(year=today.year + years, day=28)
    if day <= horizon:
        return False
    problems.append(
        Violation(
            f"{field}.far",
            f"The {label} {day} is more than {years} years ahead; check the date.",
            field,
        )
    )
    return True
