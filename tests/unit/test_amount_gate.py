"""The right-amount gate's arithmetic (no database): cumulative over additions, exact g/kg
conversion, the tolerance band's edges inside it, a unit the line does not use refused, and
input the number reader or the gate cannot count refused with a sentence."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.models import BatchMaterial, Material
from app.services.core.errors import GateViolation, Violation
from app.services.core.quantities import parse_quantity
from app.services.execution.gates import Amount, Evidence, GateResult, check_amount, in_unit

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
ASC = Material(code="RM-ASC", name="Ascorbic acid", kind="raw", unit="kg", created_at=NOW)


def line(
    quantity: str, unit: str = "kg", tolerance: str = "0.5", kind: str = "percent"
) -> BatchMaterial:
    return BatchMaterial(
        batch_id=1, position=1, material_id=1, quantity=Decimal(quantity), unit=unit,
        tolerance_kind=kind, tolerance=Decimal(tolerance), step_code="20",
    )  # fmt: skip


def kg(value: str) -> Amount:
    return Amount(Decimal(value), "kg")


ASC_LINE = line("55.000")  # story 1: 55.0 kg ±0.5 %, scaled to 100,000 tablets


def messages(result: GateResult) -> list[str]:
    return [v.message for v in result.violations]


def test_a_weighing_short_of_the_window_cannot_be_the_last() -> None:
    result = check_amount(ASC_LINE, ASC, [], kg("54.60"), last=True)
    assert messages(result) == [
        "RM-ASC needs 55.000 kg ±0.5 % (0.275 kg), from 54.725 kg to 55.275 kg; 54.600 kg is "
        "weighed, 0.125 kg short — add 0.125 kg to 0.675 kg more."
    ]
    assert result.violations[0].field == "quantity"
    assert result.evidence == []


def test_a_weighing_short_of_the_window_may_be_one_of_several() -> None:
    result = check_amount(ASC_LINE, ASC, [], kg("54.60"))
    assert result.allowed
    assert result.evidence[0].facts["still_needed"] == "0.125 kg to 0.675 kg"


def test_additions_count_together_and_grams_convert_exactly() -> None:
    result = check_amount(ASC_LINE, ASC, [kg("54.60")], Amount(Decimal("520"), "g"), last=True)
    assert result.allowed
    assert result.evidence == [
        Evidence(
            "amount",
            {
                "material": "RM-ASC",
                "target": "55.000 kg",
                "window": "54.725 kg to 55.275 kg",
                "total": "55.120 kg",
                "additions": "2",
                "added": "520 g = 0.520 kg",
            },
        )
    ]


def test_an_addition_past_the_top_says_how_much_may_still_be_added() -> None:
    result = check_amount(ASC_LINE, ASC, [kg("30"), kg("25")], kg("0.3"))
    assert messages(result) == [
        "RM-ASC needs 55.000 kg ±0.5 % (0.275 kg), from 54.725 kg to 55.275 kg; 3 additions "
        "make 55.300 kg, 0.025 kg over — add at most 0.275 kg, not 0.3 kg."
    ]
    full = check_amount(ASC_LINE, ASC, [kg("55.275")], Amount(Decimal("1"), "g"))
    assert messages(full)[0].endswith("0.001 kg over — nothing more may be added.")


@pytest.mark.parametrize(
    ("total", "allowed"),
    [("54.724", False), ("54.725", True), ("55.000", True), ("55.275", True), ("55.276", False)],
)
def test_the_edges_of_the_tolerance_band_are_inside_it(total: str, allowed: bool) -> None:
    assert check_amount(ASC_LINE, ASC, [], kg(total), last=True).allowed is allowed


def test_the_edges_hold_when_reached_in_grams_over_several_additions() -> None:
    grams = [Amount(Decimal("27362.5"), "g"), Amount(Decimal("27362.5"), "g")]  # 54.725 kg
    assert check_amount(ASC_LINE, ASC, grams[:1], grams[1], last=True).allowed
    under = [Amount(Decimal("27362.4"), "g"), Amount(Decimal("27362.5"), "g")]
    assert not check_amount(ASC_LINE, ASC, under[:1], under[1], last=True).allowed


def test_decimal_sums_are_exact_where_floats_are_not() -> None:
    exact = line("0.300", tolerance="0", kind="absolute")
    assert 0.1 + 0.2 != 0.3  # the trap a float sum falls into
    assert check_amount(exact, ASC, [kg("0.1")], kg("0.2"), last=True).allowed


def test_conversion_moves_the_point_and_never_mixes_kinds() -> None:
    assert in_unit(Amount(Decimal("1"), "mg"), "kg") == Decimal("0.000001")
    assert in_unit(Amount(Decimal("0.5"), "kg"), "g") == Decimal("500")
    assert in_unit(Amount(Decimal("250"), "mL"), "L") == Decimal("0.250")
    assert in_unit(Amount(Decimal("1"), "L"), "kg") is None
    assert in_unit(Amount(Decimal("1"), "pcs"), "kg") is None


def test_a_unit_the_line_does_not_use_is_refused() -> None:
    result = check_amount(ASC_LINE, ASC, [kg("20")], Amount(Decimal("35"), "L"))
    assert [(v.code, v.message, v.field) for v in result.violations] == [
        (
            "amount.unit",
            "RM-ASC is taken in kg on this line; L is not one of its units — enter the amount "
            "in kg, g or mg.",
            "unit",
        )
    ]


def test_a_count_is_whole_and_in_its_own_unit() -> None:
    housings = line("10", unit="pcs", tolerance="0", kind="absolute")
    hsg = Material(code="HSG-200", name="Housing", kind="component", unit="pcs", created_at=NOW)
    assert messages(check_amount(housings, hsg, [], Amount(Decimal("2.5"), "pcs"))) == [
        "HSG-200 is counted in pcs: enter a whole number."
    ]
    assert check_amount(housings, hsg, [], Amount(Decimal("1"), "kg")).violations[0].code == (
        "amount.unit"
    )
    assert check_amount(housings, hsg, [Amount(Decimal("4"), "pcs")], Amount(Decimal("6"), "pcs"),
                        last=True).allowed  # fmt: skip


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1E+12", "0", "-1"])
def test_the_gate_refuses_what_cannot_be_weighed(value: str) -> None:
    result = check_amount(ASC_LINE, ASC, [], kg(value))
    assert [v.code for v in result.violations] in (["amount.number"], ["amount.range"])


@pytest.mark.parametrize(
    "typed", ["NaN", "inf", "Infinity", "1e5", "1E+2", "9" * 13, "0.1234567", "55,12", "-5"]
)
def test_the_number_reader_refuses_non_finite_huge_and_odd_input(typed: str) -> None:
    problems: list[Violation] = []
    assert parse_quantity(typed, problems) is None
    assert len(problems) == 1


def test_results_combine_and_refuse_with_every_violation() -> None:
    short = check_amount(ASC_LINE, ASC, [], kg("54"), last=True)
    fine = check_amount(ASC_LINE, ASC, [], kg("55"), last=True)
    wrong_unit = check_amount(ASC_LINE, ASC, [], Amount(Decimal("1"), "L"))
    combined = GateResult.all(fine, short, wrong_unit)
    assert not combined.allowed
    assert [v.code for v in combined.violations] == ["amount.short", "amount.unit"]
    with pytest.raises(GateViolation) as refused:
        combined.require()
    assert len(refused.value.violations) == 2
    assert GateResult.all(fine, fine).require() == fine.evidence * 2
    assert GateResult.all().allowed


def test_a_refused_combination_keeps_no_evidence() -> None:
    fine = check_amount(ASC_LINE, ASC, [], kg("55"), last=True)
    short = check_amount(ASC_LINE, ASC, [], kg("54"), last=True)
    assert fine.evidence
    assert GateResult.all(fine, short).evidence == []
