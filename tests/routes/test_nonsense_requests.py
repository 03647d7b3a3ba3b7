"""Nonsense in a URL or a field is a clear 4xx, never a database error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session

from app.models import Equipment, Lot
from app.services.demo import seed_demo
from tests.clock import CLOCK
from tests.conftest import SYSTEM, count
from tests.routes.conftest import Browser


@pytest.mark.parametrize(
    "path", ["/users/99999999999999999999", "/users/2147483648", "/users/0", "/materials/-1"]
)
def test_an_id_out_of_range_is_not_found(signed_in: Callable[..., Browser], path: str) -> None:
    admin = signed_in("admin")
    assert admin.client.get(path).status_code == 404


def test_a_nul_character_is_refused_with_a_sentence(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    walt = signed_in("warehouse")
    search = walt.client.get("/lots/?q=ASC%00")
    assert search.status_code == 400
    assert "NUL character" in search.get_data(as_text=True)
    receipt = walt.post(
        "/lots/receive",
        {"material": "RM-ASC", "supplier": "SUP-X", "supplier_lot": "S\x00", "quantity": "1",
         "containers": "1", "expiry": "2028-05-31", "key": "k-nul"},
        htmx=True,
    )  # fmt: skip
    assert receipt.status_code == 400
    assert "NUL character" in receipt.get_data(as_text=True)
    assert count(session, Lot) == 0


@pytest.mark.parametrize(
    ("field", "typed", "sentence"),
    [
        ("supplier_lot", "L" * 61, "at most 60 characters"),
        ("supplier_lot", "NB-7\u202e", "control character (U+202E)"),
        ("supplier_lot", "NB\u20667", "control character (U+2066)"),
        ("expiry", "9999-12-31", "more than 20 years ahead"),
        ("containers", "2147483648", "whole number from 1 to"),
        ("containers", "-1", "whole number from 1 to"),
    ],
)
def test_a_receipt_refuses_nonsense_beside_the_field(
    signed_in: Callable[..., Browser], session: Session, field: str, typed: str, sentence: str
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    walt = signed_in("warehouse")
    form = {"material": "RM-ASC", "supplier": "SUP-NORTHBRIDGE", "supplier_lot": "NB-7",
            "quantity": "25", "containers": "1", "expiry": "2028-05-31", "key": "k-1"}  # fmt: skip
    before = count(session, Lot)
    response = walt.post("/lots/receive", {**form, field: typed}, htmx=True)
    assert response.status_code == 422
    assert sentence in response.get_data(as_text=True)
    assert count(session, Lot) == before


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [("-1", "whole number from 1 to"), ("99999999999", "whole number from 1 to")],
)
def test_a_clean_hold_time_out_of_range_is_refused(
    signed_in: Callable[..., Browser], session: Session, typed: str, sentence: str
) -> None:
    ada = signed_in("admin")
    form = {"code": "BL-09", "name": "Blender 9", "kind": "blender", "needs_cleaning": "on",
            "clean_hold_hours": typed}  # fmt: skip
    response = ada.post("/equipment/", form, htmx=True)
    assert response.status_code == 422
    assert sentence in response.get_data(as_text=True)
    assert count(session, Equipment) == 0
