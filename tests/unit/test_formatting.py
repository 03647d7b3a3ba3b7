"""Quantities on pages: grouped by thousands with a comma, a point for decimals, the unit after."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.formatting import qty


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (Decimal("100000"), "tablets", "100,000 tablets"),  # large
        (Decimal("1234567.891"), "kg", "1,234,567.891 kg"),
        (Decimal("999"), "kg", "999 kg"),  # small: nothing to group
        (Decimal("0.005"), "kg", "0.005 kg"),
        (Decimal("25.00"), "kg", "25.00 kg"),  # the decimals it was weighed to are kept
        (Decimal("55.0"), "kg", "55.0 kg"),
        (Decimal("12500.50"), "L", "12,500.50 L"),
        (Decimal("100000.000"), "tablets", "100,000 tablets"),  # a count has no fraction
        (Decimal("40000.0"), "pcs", "40,000 pcs"),
        (Decimal("2.50"), "Capsules", "2.5 Capsules"),  # count units in any case
        (Decimal("1E+5"), "tablets", "100,000 tablets"),  # exponents are written out
        (Decimal("1E+5"), "kg", "100,000 kg"),
        (Decimal("1.50E+3"), "kg", "1,500 kg"),
        (Decimal("1E-7"), "g", "0.0000001 g"),
        (Decimal("-10000"), "kg", "-10,000 kg"),  # an issue in the movement list
        (Decimal("-0.00"), "kg", "0.00 kg"),  # never "-0"
        (Decimal("0.5"), "%", "0.5 %"),
        (100000, None, "100,000"),  # no unit: the number alone
        ("2500.5", "", "2,500.5"),
        (None, "kg", "—"),
    ],
)
def test_quantities_are_grouped_and_carry_their_unit(
    value: Decimal | int | str | None, unit: str | None, shown: str
) -> None:
    assert qty(value, unit) == shown


def test_the_stored_value_is_not_changed() -> None:
    value = Decimal("100000.000")
    qty(value, "tablets")
    assert str(value) == "100000.000"
