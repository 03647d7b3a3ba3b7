"""Numbers typed by people, read into exact decimals, one rule for every field.

Only the digits 0-9 and a point for decimals are read. A comma, an apostrophe or a space is
refused, never guessed: "100,000" is a hundred thousand in one plant and a hundred in another,
and reading it as 100.000 once made a batch of 100 tablets out of a planned hundred thousand.
Exponents, other scripts' digits and absurd lengths are refused with a sentence, too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

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


# The finest step a quantity in each unit is kept to on the floor: kilograms, litres and metres
# to the thousandth (the gram, the millilitre, the millimetre), grams and millilitres to the
# tenth, milligrams whole. A count unit is whole. A master written finer keeps its own step.
_RESOLUTION = {
    "kg": Decimal("0.001"),
    "g": Decimal("0.1"),
    "mg": Decimal("1"),
    "l": Decimal("0.001"),
    "ml": Decimal("0.1"),
    "m": Decimal("0.001"),
}


def resolution(unit: str, master: Decimal) -> Decimal:
    """The step a scaled quantity in `unit` is kept to: a whole piece in a count unit, else the
    finer of the unit's resolution and the precision the master quantity `master` was written
    to (0.50 is written to 0.01)."""
    name = unit.strip().lower()
    if name in COUNT_UNITS:
        return Decimal(1)
    exponent = master.as_tuple().exponent
    written = Decimal(1).scaleb(min(int(exponent), 0))
    floor = _RESOLUTION.get(name)
    return min(written, floor) if floor is not None else written


def tolerance_amount(quantity: Decimal, tolerance_kind: str, tolerance: Decimal) -> Decimal:
    """The ± amount of a tolerance around `quantity`, in its unit (2 % of 0.500 kg is 0.010 kg):
    kept to the quantity's decimals where that is exact, else to every decimal it has."""
    if tolerance_kind != "percent":
        return tolerance
    amount = quantity * tolerance / 100
    step = Decimal(1).scaleb(min(int(quantity.as_tuple().exponent), 0))
    kept = amount.quantize(step)
    return kept if kept == amount else amount.normalize()


@dataclass(frozen=True)
class ScaledLine:
    """A bill-of-materials line scaled to a batch: the target and its tolerance (a percentage
    stays the same; an absolute amount scales)."""

    quantity: Decimal
    tolerance: Decimal


def scale_line(
    quantity: Decimal,
    *,
    unit: str,
    tolerance_kind: str,
    tolerance: Decimal,
    factor: Decimal,
    label: str,
    problems: list[Violation],
    field: str = "planned",
) -> ScaledLine | None:
    """`quantity` (and an absolute tolerance) times `factor`, kept to the unit's `resolution`;
    None with a sentence in `problems` when the kept target would leave its tolerance band, so
    that no batch is ever asked for an amount its own tolerance refuses. The one rounding rule
    for scaled quantities: nearest step (half to even) for the target, down for an absolute
    tolerance (a band never widens by rounding)."""
    exact = quantity * factor
    limit = Decimal(10) ** MAX_WHOLE_DIGITS
    if exact >= limit:
        problems.append(
            Violation(
                f"{field}.too_large",
                f"{label} would need {shown(exact.quantize(Decimal(1)), unit)}, more than any "
                "batch is weighed for; choose a smaller batch.",
                field,
            )
        )
        return None
    step = resolution(unit, quantity)
    target = exact.quantize(step, rounding=ROUND_HALF_EVEN)
    if tolerance_kind == "percent":
        band = exact * tolerance / 100
        kept_tolerance = tolerance
        words = f"±{_plain(tolerance)} %"
    else:
        band = (tolerance * factor).quantize(step, rounding=ROUND_DOWN)
        kept_tolerance = band
        words = f"±{shown(band, unit)}"
    if target <= 0 or abs(target - exact) > band:
        advice = (
            "choose a larger batch"
            if band > 0
            else f"choose a batch size for which it comes out in whole steps of {shown(step, unit)}"
        )
        problems.append(
            Violation(
                f"{field}.precision",
                f"{label} would need {shown(exact.normalize(), unit)}, which cannot be weighed "
                f"to {words} in steps of {shown(step, unit)}; {advice}.",
                field,
            )
        )
        return None
    return ScaledLine(target, kept_tolerance)


def _plain(value: Decimal) -> str:
    """A number without an exponent or trailing zeros (2, 0.5)."""
    return f"{value.normalize():f}"
