"""Lot labels per container (issue 12 point 11): a lot received in N containers prints N labels
under one print record; whether a print is a reprint (and asks for a reason) is one rule, the
same for the lot page and for print_label."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from sqlmodel import Session

from app.models import AuditEvent, Lot, User
from app.services.core import gs1
from app.services.core.errors import Rejected
from app.services.demo import master as demo_master
from app.services.warehouse import labels, receipt
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM, audit_actions, count


@pytest.fixture
def walt(session: Session, make_user: Callable[..., User]) -> User:
    demo_master.seed_master_data(session, actor=SYSTEM, clock=CLOCK)
    return make_user("warehouse", username="walt", full_name="Walt Nguyen")


def _receive(session: Session, walt: User, containers: str) -> Lot:
    lot, _ = receipt.receive(
        session,
        actor=walt,
        new=ReceiptIn("RM-ASC", "SUP-NORTHBRIDGE", "S-1", "250", date(2028, 5, 31), containers,
                      key=f"k-{containers}"),
        clock=CLOCK,
    )  # fmt: skip
    return lot


def test_a_lot_in_ten_containers_prints_ten_labels_under_one_record(
    session: Session, walt: User
) -> None:
    lot = _receive(session, walt, "10")
    trail = count(session, AuditEvent)

    printed = labels.print_label(session, actor=walt, lot_code=lot.lot_code, clock=CLOCK)

    assert printed.count == 10
    assert printed.data.hri == f"(01)04012345000016(17)280531(10){lot.lot_code}"  # the lot's
    assert count(session, AuditEvent) == trail + 1  # one record for all ten
    assert audit_actions(session, entity_type="lot", entity_id=str(lot.id))[-1] == (
        "lot.label_printed"
    )
    event = labels.last_print(session, lot)
    assert event is not None
    assert json.loads(event.after)["labels"] == 10  # type: ignore[arg-type]
    # The same symbol drawn again for labels 2 to 10, not ten copies of every bar.
    assert f'id="{gs1.SYMBOL_ID}"' in printed.data.svg
    assert f'<use href="#{gs1.SYMBOL_ID}"/>' in printed.data.svg_again


def test_one_container_prints_one_label(session: Session, walt: User) -> None:
    lot = _receive(session, walt, "1")
    assert labels.print_label(session, actor=walt, lot_code=lot.lot_code, clock=CLOCK).count == 1


def test_a_reprint_is_known_before_it_is_asked_for(session: Session, walt: User) -> None:
    """The lot page shows the reason field only for a reprint, by the rule print_label uses."""
    lot = _receive(session, walt, "3")
    first = labels.label_state(session, lot, walt)
    assert (first.may_print, first.reprint, first.out_of_date) == (True, False, None)
    labels.print_label(session, actor=walt, lot_code=lot.lot_code, clock=CLOCK)

    assert labels.label_state(session, lot, walt).reprint
    trail = count(session, AuditEvent)
    with pytest.raises(Rejected) as refused:
        labels.print_label(session, actor=walt, lot_code=lot.lot_code, clock=CLOCK)
    assert [(v.code, v.field) for v in refused.value.violations] == [("reason.empty", "reason")]
    assert count(session, AuditEvent) == trail
    again = labels.print_label(
        session, actor=walt, lot_code=lot.lot_code, reprint_reason="Torn on one drum", clock=CLOCK
    )
    assert (again.reprint, again.count) == (True, 3)


def test_who_may_not_print_is_told_by_the_same_state(
    session: Session, walt: User, make_user: Callable[..., User]
) -> None:
    lot = _receive(session, walt, "2")
    assert not labels.label_state(session, lot, make_user("operator")).may_print
