"""The right amount: what is weighed or counted for a line of the batch's bill of materials,
added up over every container and addition, against the scaled target and its tolerance.

Units are converted exactly (a gram is 0.001 kg, by moving the decimal point, never by a
float); a unit of another kind than the line's (litres on a line in kilograms) is refused,
never mixed in. The edges of the tolerance band are inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.models import BatchMaterial, Material
from app.services.core.errors import Violation
from app.services.core.quantities import COUNT_UNITS, MAX_WHOLE_DIGITS, shown, tolerance_amount
from app.services.execution.gates.result import GateResult, one_of

# Units that convert into each other exactly, as powers of ten of the smallest, by kind.
_SCALES: dict[str, dict[str, int]] = {
    "mass": {"kg": 3, "g": 0, "mg": -3},
    "volume": {"l": 3, "ml": 0},
}
_KIND = {unit: kind for kind, units in _SCALES.items() for unit in units}
_LIMIT = Decimal(10) ** MAX_WHOLE_DIGITS


@dataclass(frozen=True)
class Amount:
    """A quantity as weighed or counted: its value and the unit it was taken in."""

    value: Decimal
    unit: str

    def __str__(self) -> str:
        return shown(self.value, self.unit)


def units_of(unit: str) -> list[str]:
    """The units an amount for a line in `unit` may be entered in: the line's own first, then
    those of its kind that convert exactly ("kg" -> kg, g, mg)."""
    name = unit.strip().lower()
    kind = _KIND.get(name)
    if kind is None:
        return [unit]
    return [unit, *(u for u in _SCALES[kind] if u != name)]


def in_unit(amount: Amount, unit: str) -> Decimal | None:
    """`amount` in `unit`, exactly; None when the two units are not of one kind."""
    have, want = amount.unit.strip().lower(), unit.strip().lower()
    if have == want:
        return amount.value
    if _KIND.get(have) is None or _KIND.get(have) != _KIND.get(want):
        return None
    kind = _SCALES[_KIND[have]]
    return amount.value.scaleb(kind[have] - kind[want])


def _invalid(amount: Amount, line: BatchMaterial, material: Material) -> list[Violation]:
    """Why `amount` cannot be counted against `line` at all."""
    value = amount.value
    if not value.is_finite() or abs(value) >= _LIMIT:
        return [
            Violation(
                "amount.number",
                f"{amount.value} is not an amount that can be weighed; enter the "
                f"{material.code} weighed, with at most {MAX_WHOLE_DIGITS} digits.",
                "quantity",
            )
        ]
    if value <= 0:
        return [Violation("amount.range", "The amount must be more than zero.", "quantity")]
    if in_unit(amount, line.unit) is None:
        return [
            Violation(
                "amount.unit",
                f"{material.code} is taken in {line.unit} on this line; {amount.unit} is not "
                f"one of its units — enter the amount in {one_of(units_of(line.unit))}.",
                "unit",
            )
        ]
    if line.unit.strip().lower() in COUNT_UNITS and value != value.to_integral_value():
        return [
            Violation(
                "amount.whole",
                f"{material.code} is counted in {line.unit}: enter a whole number.",
                "quantity",
            )
        ]
    return []


@dataclass(frozen=True)
class Window:
    """A line's scaled target with its tolerance band, in the line's unit."""

    target: Decimal
    tolerance: Decimal
    unit: str
    words: str  # "55.000 kg ±0.5 % (0.275 kg), from 54.725 kg to 55.275 kg"

    @property
    def low(self) -> Decimal:
        return max(self.target - self.tolerance, Decimal(0))

    @property
    def high(self) -> Decimal:
        return self.target + self.tolerance


def window(line: BatchMaterial) -> Window:
    """The band a line's total must end in (both edges inside)."""
    tolerance = tolerance_amount(line.quantity, line.tolerance_kind, line.tolerance)
    band = (
        f"±{line.tolerance.normalize():f} % ({shown(tolerance, line.unit)})"
        if line.tolerance_kind == "percent"
        else f"±{shown(tolerance, line.unit)}"
    )
    low = max(line.quantity - tolerance, Decimal(0))
    words = (
        f"{shown(line.quantity, line.unit)} {band}, from {shown(low, line.unit)} to "
        f"{shown(line.quantity + tolerance, line.unit)}"
    )
    return Window(line.quantity, tolerance, line.unit, words)


def _kept(value: Decimal, like: Decimal) -> Decimal:
    """`value` to the decimals of `like` (the line's target) where that is exact, so totals
    read as the target does ("55.300 kg" beside "55.000 kg")."""
    step = Decimal(1).scaleb(min(int(like.as_tuple().exponent), 0))
    kept = value.quantize(step)
    return kept if kept == value else value


def check_amount(
    line: BatchMaterial,
    material: Material,
    recorded: Sequence[Amount],
    adding: Amount | None = None,
    *,
    last: bool = False,
) -> GateResult:
    """May `adding` be recorded for `line`, on top of the amounts `recorded` for it before (each
    container or addition)? Never past the top of the tolerance band; and when `last` (the
    operator says the line is done, or the step completes: then `adding` may be None), the
    total must have reached the bottom of it.

    Raises:
        ValueError: a recorded amount in a unit the line does not use (the record is broken:
            nothing enters it without this gate).
    """
    unit = line.unit
    if adding is not None:
        invalid = _invalid(adding, line, material)
        if invalid:
            return GateResult.judged(invalid, "amount", {})
    before = Decimal(0)
    for amount in recorded:
        value = in_unit(amount, unit)
        if value is None:
            raise ValueError(f"{amount} is recorded on a line in {unit}")
        before += value
    added = in_unit(adding, unit) if adding is not None else None
    total = _kept(before + (added or 0), line.quantity)
    count = len(recorded) + (adding is not None)
    band = window(line)
    if count == 0:
        weighed = "nothing is weighed yet"
    elif count == 1:
        weighed = f"{shown(total, unit)} is weighed"
    else:
        weighed = f"{count} additions make {shown(total, unit)}"
    violations = []
    if total > band.high:
        room = _kept(band.high - before, line.quantity)
        if adding is None:
            advice = "correct the entries or raise a deviation"
        elif room > 0:
            advice = f"add at most {shown(room, unit)}, not {adding}"
        else:
            advice = "nothing more may be added"
        violations.append(
            Violation(
                "amount.over",
                f"{material.code} needs {band.words}; {weighed}, "
                f"{shown(total - band.high, unit)} over — {advice}.",
                "quantity",
            )
        )
    elif last and total < band.low:
        short = "" if count == 0 else f", {shown(band.low - total, unit)} short"
        violations.append(
            Violation(
                "amount.short",
                f"{material.code} needs {band.words}; {weighed}{short} — add "
                f"{shown(band.low - total, unit)} to {shown(band.high - total, unit)} more.",
                "quantity",
            )
        )
    facts = {
        "material": material.code,
        "target": shown(band.target, unit),
        "window": f"{shown(band.low, unit)} to {shown(band.high, unit)}",
        "total": shown(total, unit),
        "additions": str(count),
    }
    if adding is not None:
        facts["added"] = str(adding)
        if adding.unit != unit:
            facts["added"] += f" = {shown(_kept(added or Decimal(0), line.quantity), unit)}"
    if total < band.low:
        facts["still_needed"] = (
            f"{shown(band.low - total, unit)} to {shown(band.high - total, unit)}"
        )
    return GateResult.judged(violations, "amount", facts)
