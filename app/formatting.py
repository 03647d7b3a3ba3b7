"""How numbers are shown on pages: one filter, `qty`, for every quantity with its unit.

A quantity is shown with a comma between thousands and a point for decimals, then its unit:
"100,000 tablets", "1,250.500 kg". The decimals the value carries are kept (a weighed
"25.00 kg" says it was weighed to the hundredth); only in a count unit, where a fraction
means nothing, are trailing zeros dropped ("100000.000" tablets is "100,000 tablets").
The stored value is never changed, and form fields are never filled with this text: the
number reader (app.services.core.quantities) refuses a grouped number on input.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Flask

from app.services.core.quantities import COUNT_UNITS


def qty(value: Decimal | int | str | None, unit: str | None = None) -> str:
    """`value` grouped by thousands, followed by `unit` when there is one ("—" for none)."""
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


def init_app(app: Flask) -> None:
    app.add_template_filter(qty, "qty")
