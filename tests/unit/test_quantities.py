"""One reader for every typed number: digits 0-9 and a point; nothing guessed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.services.core.errors import Violation
from app.services.core.quantities import parse_quantity, read_number


def refusal(raw: str, unit: str | None = None) -> str:
    problems: list[Violation] = []
    assert parse_quantity(raw, problems, unit=unit) is None, raw
    [problem] = problems
    return problem.message


@pytest.mark.parametrize("grouped", ["100,000", "40,000", "1.000,5", "1 000", "1'000", "100 000"])
def test_a_thousands_separator_is_refused_never_read_as_a_decimal_point(grouped: str) -> None:
    assert "without thousands separators" in refusal(grouped)


@pytest.mark.parametrize(
    "nonsense",
    ["1E+309", "1e-400", "NaN", "Infinity", "١٢", "１２", "0x10", "12kg", "+5", "--5", "5.", ".5"],
)
def test_nonsense_is_refused_with_a_sentence(nonsense: str) -> None:
    assert "digits 0-9" in refusal(nonsense)


def test_absurd_lengths_are_refused() -> None:
    assert "too many digits" in refusal("1" * 13)
    assert "too many digits" in refusal("1." + "1" * 7)
    assert parse_quantity("9" * 12 + "." + "9" * 6, []) == Decimal("999999999999.999999")


@pytest.mark.parametrize("zero", ["0", "0.000", "-1"])
def test_a_quantity_is_more_than_zero(zero: str) -> None:
    assert "more than zero" in refusal(zero) or "digits 0-9" in refusal(zero)


def test_count_units_take_whole_numbers() -> None:
    assert "whole number" in refusal("100000.5", unit="tablets")
    assert parse_quantity("100000", [], unit="tablets") == Decimal(100000)
    assert parse_quantity("0.55", [], unit="kg") == Decimal("0.55")


def test_exact_decimals_keep_their_written_precision() -> None:
    assert str(parse_quantity("55.120", [])) == "55.120"
    assert read_number("0", field="t", label="tolerance", problems=[], positive=False) == 0
