"""Numbers typed by people, read into exact decimals, one rule for every field.

Only the digits 0-9 and a point for decimals are read. A comma, an apostrophe or a space is
refused, never guessed: "100,000" is a hundred thousand in one plant and a hundred in another,
and reading it as 100.000 once made a batch of 100 tablets out of a planned hundred thousand.
Exponents, other scripts' digits and absurd lengths are refused with a sentence, too.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from app.services.core.errors import Violation

RECORD_ID_MAX = 2**31 - 1  # the database's integer: a record id beyond it names nothing
MAX_WHOLE_DIGITS = 12
MAX_DECIMALS = 6
_NUMBER = re.compile(rf"-?\d{{1,{MAX_WHOLE_DIGITS}}}(\.\d{{1,{MAX_DECIMALS}}})?", re.ASCII)
_DIGITS = re.compile(r"-?\d+(\.\d+)?", re.ASCII)
_GROUPED = re.compile(r"[\d][\d.,' \u00a0\u202f]*", re.ASCII)
# Units counted in whole pieces: a quantity of them is a whole number.
COUNT_UNITS = frozenset({"pcs", "tablets", "tablet", "capsules", "capsule", "units", "unit"})


def read_number(
    raw: str,
    *,
    field: str,
    label: str,
    problems: list[Violation],
    positive: bool = True,
    unit: str | None = None,
    empty: str | None = None,
    signed: bool = False,
) -> Decimal | None:
    """`raw` as an exact decimal, or None with the reason added to `problems`. `positive`:
    more than zero, else zero or more; `signed`: any sign (a limit of -20 °C)."""
    text = (raw or "").strip()
    if not text:
        problems.append(Violation(f"{field}.empty", empty or f"Enter the {label}.", field))
        return None
    if not _NUMBER.fullmatch(text):
        problems.append(Violation(f"{field}.number", _why_not(text, label), field))
        return None
    value = Decimal(text)
    if not signed and (value <= 0 if positive else value < 0):
        word = "more than zero" if positive else "zero or more"
        problems.append(Violation(f"{field}.range", f"The {label} must be {word}.", field))
        return None
    if unit in COUNT_UNITS and value != value.to_integral_value():
        problems.append(
            Violation(f"{field}.whole", f"The {label} is counted in {unit}: a whole number.", field)
        )
        return None
    return value


def _why_not(text: str, label: str) -> str:
    if _DIGITS.fullmatch(text):
        return (
            f"The {label} has too many digits: at most {MAX_WHOLE_DIGITS} before the point "
            f"and {MAX_DECIMALS} after it."
        )
    if _GROUPED.fullmatch(text) and any(c in text for c in ",' \u00a0\u202f"):
        return (
            f"Write the {label} without thousands separators, with a point for decimals: "
            "100000 or 0.5."
        )
    return f"The {label} must be a number, written with the digits 0-9 and a point for decimals."


def parse_quantity(
    raw: str, problems: list[Violation], field: str = "quantity", unit: str | None = None
) -> Decimal | None:
    """A quantity (more than zero; whole in count units)."""
    return read_number(
        raw,
        field=field,
        label="quantity",
        problems=problems,
        unit=unit,
        empty="Enter the quantity as a number.",
    )


_WHOLE = re.compile(r"\d{1,12}", re.ASCII)


def read_whole_number(
    raw: str | None,
    *,
    field: str,
    label: str,
    problems: list[Violation],
    low: int = 1,
    high: int,
    empty: str | None = None,
) -> int | None:
    """A whole number from `low` to `high` (days, hours, containers), or None with the reason
    added to `problems`. Empty is refused with `empty`, or the sentence of the range."""
    text = (raw or "").strip()
    within = f"The {label} is a whole number from {low} to {high}."
    if not text:
        problems.append(Violation(f"{field}.empty", empty or within, field))
        return None
    if not _WHOLE.fullmatch(text) or not low <= int(text) <= high:
        problems.append(Violation(f"{field}.range", within, field))
        return None
    return int(text)


def record_id(raw: str | int | None) -> int | None:
    """A record id as typed or sent (ASCII digits, 1 to RECORD_ID_MAX), or None: an id out of
    range names no record, it is not a database error."""
    text = str(raw if raw is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= RECORD_ID_MAX:
        return None
    return int(text)


def shown(value: Decimal | int | str | None, unit: str | None = None) -> str:
    """A quantity as people read it: grouped by thousands with its unit ("100,000 tablets",
    "1,250.500 kg"). The decimals the value carries are kept (a weighed "25.00 kg" says it was
    weighed to the hundredth); in a count unit, where a fraction means nothing, trailing zeros
    go ("100000.000" tablets is "100,000 tablets"). Never used to fill a form field: the
    number reader refuses grouped numbers on input."""
    if value is None or value == "":
        return "—"
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return str(value)  # not a number: shown as it is rather than hidden
    if not number.is_finite():
        return str(number)
    if unit and unit.strip().lower() in COUNT_UNITS:
        number = number.normalize()  # 100000.000 -> 1E+5, shown as 100,000
    if number.is_zero():
        number = abs(number)  # never "-0"
    text = f"{number:,f}"  # fixed point, so 1E+5 is 100,000 and 1E-7 is 0.0000001
    return f"{text} {unit}" if unit else text
