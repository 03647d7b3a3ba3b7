"""The one rule for typed text and codes, whole numbers and far-off dates."""

from __future__ import annotations

from datetime import date

import pytest

from app.models import Lot
from app.services.core.dates import too_far_ahead
from app.services.core.errors import Violation
from app.services.core.quantities import read_whole_number, record_id
from app.services.core.text import max_length, read_text


def test_a_text_is_trimmed_and_fits_its_column() -> None:
    problems: list[Violation] = []
    assert max_length(Lot, "supplier_lot") == 60
    assert read_text("  NB-7 ", field="f", label="lot", problems=problems, limit=60) == "NB-7"
    assert read_text("x" * 61, field="f", label="lot", problems=problems, limit=60) == ""
    assert problems[0].field == "f"
    assert "at most 60 characters" in problems[0].message


@pytest.mark.parametrize(
    "typed", ["\u202eevil", "a\u2066b", "a\u200fb", "a\x1bb", "a\tb", "a\nb", "a\ufeffb"]
)
def test_control_and_bidi_characters_are_refused_with_a_sentence(typed: str) -> None:
    problems: list[Violation] = []
    assert read_text(typed, field="supplier_lot", label="lot", problems=problems) == ""
    assert problems[0].code == "supplier_lot.control"
    assert "control character" in problems[0].message


def test_a_multi_line_text_keeps_its_line_breaks() -> None:
    problems: list[Violation] = []
    text = read_text(
        "one\r\ntwo\tthree", field="n", label="note", problems=problems, multiline=True
    )
    assert text == "one\r\ntwo\tthree"
    assert problems == []


@pytest.mark.parametrize("typed", ["NB-7", "LOT 2026/01", "a.b_c"])
def test_a_code_of_printable_characters_is_taken(typed: str) -> None:
    problems: list[Violation] = []
    assert read_text(typed, field="c", label="code", problems=problems, code=True) == typed
    assert problems == []


@pytest.mark.parametrize("typed", ["١٢", "LOT  2", "Müller"])
def test_a_code_outside_printable_basic_latin_is_refused(typed: str) -> None:
    problems: list[Violation] = []
    assert read_text(typed, field="c", label="code", problems=problems, code=True) == ""
    assert problems[0].code == "c.characters"


def test_an_empty_required_text_says_what_to_enter() -> None:
    problems: list[Violation] = []
    read_text(" ", field="name", label="name", problems=problems, required=True)
    assert problems[0].message == "Enter the name."


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("72", 72), (" 1 ", 1), ("0", None), ("-1", None), ("2147483648", None), ("1e3", None),
     ("١٢", None), ("", None), ("9" * 400, None)],
)  # fmt: skip
def test_a_whole_number_lies_within_its_bounds(typed: str, expected: int | None) -> None:
    problems: list[Violation] = []
    got = read_whole_number(typed, field="h", label="hold time", problems=problems, high=8784)
    assert got == expected
    assert bool(problems) == (expected is None)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("12", 12), ("0", None), ("2147483648", None), ("١٢", None), ("-1", None), ("x", None)],
)
def test_a_record_id_beyond_the_database_integer_names_nothing(
    typed: str, expected: int | None
) -> None:
    assert record_id(typed) == expected


def test_a_date_more_than_twenty_years_ahead_is_refused() -> None:
    problems: list[Violation] = []
    today = date(2026, 11, 22)
    assert not too_far_ahead(date(2046, 11, 22), today=today, field="e", label="x", problems=[])
    assert too_far_ahead(date(9999, 12, 31), today=today, field="expiry", label="expiry date",
                         problems=problems)  # fmt: skip
    assert problems[0].field == "expiry"
    assert too_far_ahead(
        date(2048, 3, 1), today=date(2028, 2, 29), field="e", label="x", problems=[]
    )
