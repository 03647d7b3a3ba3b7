"""One reader for every typed number: digits 0-9 and a point; nothing guessed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.services.core.errors import Violation
from app.services.core.quantities import (
    ScaledLine,
    parse_quantity,
    read_number,
    scale_line,
    tolerance_amount,
)


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


def _scaled(quantity: str, unit: str, kind: str, tolerance: str, factor: str) -> object:
    problems: list[Violation] = []
    line = scale_line(
        Decimal(quantity), unit=unit, tolerance_kind=kind, tolerance=Decimal(tolerance),
        factor=Decimal(factor), label="RM-X", problems=problems,
    )  # fmt: skip
    return line if line is not None else problems[0].message


@pytest.mark.parametrize(
    ("quantity", "unit", "factor", "kept"),
    [
        ("0.50", "kg", "0.01", "0.005"),  # kg to the gram, not to the master's 0.01 kg
        ("0.50", "kg", "0.37", "0.185"),
        ("55.0", "kg", "1", "55.000"),
        ("12.5", "g", "0.37", "4.6"),  # g to 0.1 g (4.625: nearest, half to even)
        ("12.345", "g", "0.37", "4.568"),  # ...or to the master's finer precision
        ("250", "mg", "0.5", "125"),
        ("0.5", "L", "0.37", "0.185"),
        ("4", "pcs", "2.5", "10"),
        ("3.5", "box", "0.5", "1.8"),  # an unknown unit keeps the master's precision
    ],
)
def test_a_scaled_target_keeps_its_units_resolution(
    quantity: str, unit: str, factor: str, kept: str
) -> None:
    line = _scaled(quantity, unit, "percent", "5", factor)
    assert isinstance(line, ScaledLine)
    assert str(line.quantity) == kept
    assert line.tolerance == Decimal(5)  # a percentage does not scale


def test_an_absolute_tolerance_scales_and_never_widens_by_rounding() -> None:
    line = _scaled("2.0", "kg", "absolute", "0.05", "0.37")
    assert isinstance(line, ScaledLine)
    assert (str(line.quantity), str(line.tolerance)) == ("0.740", "0.018")  # 0.0185, down


@pytest.mark.parametrize(
    ("quantity", "unit", "kind", "tolerance", "factor", "words"),
    [
        ("0.50", "kg", "percent", "2", "0.001",
         "RM-X would need 0.0005 kg, which cannot be weighed to ±2 % in steps of 0.001 kg; "
         "choose a larger batch."),
        ("0.50", "kg", "percent", "2", "0.011",
         "RM-X would need 0.0055 kg, which cannot be weighed to ±2 % in steps of 0.001 kg; "
         "choose a larger batch."),
        ("1.0", "kg", "absolute", "0.01", "0.0003",
         "RM-X would need 0.0003 kg, which cannot be weighed to ±0.000 kg in steps of "
         "0.001 kg; choose a batch size for which it comes out in whole steps of 0.001 kg."),
        ("4", "pcs", "absolute", "0", "0.3",
         "RM-X would need 1.2 pcs, which cannot be weighed to ±0 pcs in steps of 1 pcs; "
         "choose a batch size for which it comes out in whole steps of 1 pcs."),
    ],
)  # fmt: skip
def test_a_target_rounded_outside_its_tolerance_is_refused(
    quantity: str, unit: str, kind: str, tolerance: str, factor: str, words: str
) -> None:
    assert _scaled(quantity, unit, kind, tolerance, factor) == words


def test_an_absurd_scaled_quantity_is_refused_with_a_sentence() -> None:
    words = _scaled("999999999999", "kg", "percent", "1", "1000000")
    assert isinstance(words, str)
    assert "more than any batch is weighed for" in words


def test_a_tolerance_amount_is_kept_to_the_quantitys_decimals_where_exact() -> None:
    assert str(tolerance_amount(Decimal("0.500"), "percent", Decimal("2"))) == "0.010"
    assert str(tolerance_amount(Decimal("0.185"), "percent", Decimal("2"))) == "0.0037"
    assert str(tolerance_amount(Decimal("3"), "absolute", Decimal("0.5"))) == "0.5"
