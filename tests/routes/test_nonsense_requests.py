"""Nonsense in a URL or a field is a clear 4xx, never a database error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session

from app.models import Lot
from tests.conftest import count
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
