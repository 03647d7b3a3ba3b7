"""GTINs on materials: the four GS1 lengths, the check digit, kept as 14 digits (no database)."""

from __future__ import annotations

import pytest

from app.services.masterdata.materials import normalise_gtin


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("614141000036", "00614141000036"),  # GTIN-12 (UPC-A)
        ("9501101020917", "09501101020917"),  # GTIN-13
        ("09501101020917", "09501101020917"),  # GTIN-14 as AI (01) carries it
        (" 950 1101 020917 ", "09501101020917"),  # spaces from a printed label
    ],
)
def test_every_gs1_length_is_kept_as_14_digits(raw: str, stored: str) -> None:
    assert normalise_gtin(raw) == (stored, None)


@pytest.mark.parametrize("raw", ["", "   "])
def test_no_gtin_is_allowed(raw: str) -> None:
    assert normalise_gtin(raw) == (None, None)


def test_a_wrong_check_digit_is_named() -> None:
    gtin, problem = normalise_gtin("9501101020918")
    assert gtin is None and problem is not None
    assert (problem.code, problem.field) == ("gtin.check_digit", "gtin")
    assert problem.message == (
        "The GTIN 9501101020918 has a wrong check digit (8; it should be 7): check the number "
        "you typed."
    )


@pytest.mark.parametrize("raw", ["1234567", "1234567890", "123456789012345", "95011010209A7"])
def test_other_lengths_and_letters_are_not_gtins(raw: str) -> None:
    gtin, problem = normalise_gtin(raw)
    assert gtin is None and problem is not None
    assert problem.code == "gtin.format"
    assert problem.message == "A GTIN has 8, 12, 13 or 14 digits and nothing else."
