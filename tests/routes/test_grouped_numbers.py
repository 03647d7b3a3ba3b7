"""Every quantity field refuses a grouped number ("100,000") with a sentence, storing nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlmodel import Session

from app.models import Batch, InventoryMovement, Lot
from app.services.demo import seed_demo
from tests.clock import CLOCK
from tests.conftest import SYSTEM, count
from tests.routes.conftest import Browser

GROUPED = ["100,000", "40,000", "1 000", "1.000,5", "1'000"]


@pytest.fixture
def demo(session: Session) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("typed", GROUPED)
def test_every_quantity_field_refuses_a_grouped_number(
    signed_in: Callable[..., Browser], session: Session, typed: str
) -> None:
    sam = walt = signed_in("supervisor", "warehouse")  # one browser, both hats
    before = (count(session, Batch), count(session, Lot), count(session, InventoryMovement))
    forms = [
        (sam, "/batches/", {"recipe": "VC500", "batch_no": "VC500-26-0099", "planned": typed}),
        (walt, "/lots/receive", {"material": "RM-ASC", "supplier": "SUP-NORTHBRIDGE",
                                 "supplier_lot": "S-1", "quantity": typed, "containers": "1",
                                 "expiry": "2028-05-31"}),
        (walt, "/lots/issue", {"batch_no": "VC500-26-0099", "lot": "MCC-2610-01",
                               "quantity": typed}),
        (walt, "/lots/output", {"material": "VC500", "batch_no": "VC500-26-0099",
                                "quantity": typed}),
    ]  # fmt: skip
    for person, path, form in forms:
        response = person.post(path, {**form, "key": uuid.uuid4().hex}, htmx=True)
        assert response.status_code == 422, path
        assert "without thousands separators" in response.get_data(as_text=True), path
    assert (count(session, Batch), count(session, Lot), count(session, InventoryMovement)) == before
