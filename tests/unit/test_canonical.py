"""Canonical JSON: one byte string per value, whatever order or form it arrived in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

import pytest

from app.canonical import canonical_json, sha256_hex


class Colour(StrEnum):
    GREEN = "green"


def test_keys_are_sorted_and_there_is_no_whitespace() -> None:
    assert canonical_json({"b": 1, "a": {"d": [1, 2], "c": None}}) == (
        '{"a":{"c":null,"d":[1,2]},"b":1}'
    )


def test_key_order_of_the_input_does_not_change_the_hash() -> None:
    one = {"lot": "L1", "qty": Decimal("12.500"), "at": datetime(2026, 1, 2, tzinfo=UTC)}
    other = dict(reversed(list(one.items())))
    assert sha256_hex(canonical_json(one)) == sha256_hex(canonical_json(other))


def test_datetimes_are_utc_with_microseconds_whatever_zone_they_came_in() -> None:
    berlin = timezone(timedelta(hours=1))
    local = datetime(2026, 11, 22, 15, 0, tzinfo=berlin)
    assert canonical_json(local) == '"2026-11-22T14:00:00.000000+00:00"'
    assert canonical_json(local) == canonical_json(local.astimezone(UTC))


def test_decimals_keep_their_written_precision_as_text() -> None:
    assert canonical_json(Decimal("12.500")) == '"12.500"'
    assert canonical_json(Decimal("12.5")) != canonical_json(Decimal("12.500"))


def test_dates_enums_sets_and_unicode() -> None:
    value = {"d": date(2027, 3, 1), "c": Colour.GREEN, "s": {"b", "a"}, "u": "Müller µg"}
    assert canonical_json(value) == '{"c":"green","d":"2027-03-01","s":["a","b"],"u":"Müller µg"}'


def test_booleans_stay_booleans_and_do_not_collide_with_numbers() -> None:
    assert canonical_json([True, 1, False, 0]) == "[true,1,false,0]"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "floats are not allowed"),
        (datetime(2026, 1, 1), "naive datetimes"),  # noqa: DTZ001 - the point of the test
        (object(), "has no canonical JSON form"),
    ],
)
def test_values_without_one_reproducible_form_are_refused(value: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        canonical_json({"x": value})


def test_sha256_is_of_the_utf8_text() -> None:
    assert sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
