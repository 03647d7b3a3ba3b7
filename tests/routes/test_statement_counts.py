"""Lists and pages load in a fixed number of SQL statements, however much data there is: each
page is measured, more rows are added through the services, and the page is measured again."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlmodel import Session

from app.models import Equipment, Lot, User
from app.services.accounts.auth import find_user
from app.services.demo import DEMO_PASSWORD, seed_demo
from app.services.execution import batches, record
from app.services.execution.batches import BatchIn
from app.services.masterdata import equipment, training
from app.services.masterdata.equipment import EquipmentIn
from app.services.warehouse import corrections, issuing, receipt, shipping
from app.services.warehouse.issuing import IssueIn
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import CLOCK, NOW
from tests.conftest import SYSTEM, Counted
from tests.routes.conftest import Browser
from tests.signing import Signer, sign_lot

CountStatements = Callable[[], AbstractContextManager[Counted]]
SUPPLIER = {
    "RM-ASC": "SUP-NORTHBRIDGE",
    "RM-MCC": "SUP-CELLUTEC",
    "RM-MGS": "SUP-LUBRICHEM",
    "HSG-200": "SUP-POLYFORM",
}


def statements(count_statements: CountStatements, browser: Browser, path: str) -> int:
    """How many SQL statements one GET of `path` runs (it must answer 200), once the session's
    one-off work is done (a flash shown once, the session's activity time moved)."""
    browser.client.get(path)
    with count_statements() as counted:
        answer = browser.client.get(path)
    assert answer.status_code == 200, path
    return counted.n


@dataclass
class Plant:
    """The demo plant with a QA signer: receives, releases, plans batches and issues."""

    session: Session
    qa: User
    walt: User
    sam: User
    numbers = itertools.count(1)

    def receive(self, material: str = "RM-ASC", *, days: int = 0) -> Lot:
        lot, _ = receipt.receive(
            self.session,
            actor=self.walt,
            new=ReceiptIn(material, SUPPLIER[material], f"S-{next(self.numbers)}", "50",
                          date(2028, 5, 31) + timedelta(days=days), key=uuid.uuid4().hex),
            clock=CLOCK,
        )  # fmt: skip
        return lot

    def release(self, lot: Lot) -> Lot:
        sign_lot(self.session, self.qa, lot, "released")
        assert lot.status == "released"
        return lot

    def batch(self, batch_no: str, recipe: str = "VC500", quantity: str = "100000") -> str:
        batches.create_batch(
            self.session, actor=self.sam, new=BatchIn(recipe, batch_no, quantity), clock=CLOCK
        )
        return batch_no

    def issue(self, lot: Lot, batch_no: str, quantity: str = "1") -> None:
        issuing.issue(
            self.session,
            actor=self.walt,
            new=IssueIn(lot.lot_code, quantity, batch_no, "not first-expiring", uuid.uuid4().hex),
            clock=CLOCK,
        )

    def give_back(self, lot: Lot, batch_no: str, quantity: str = "0.5") -> None:
        issuing.return_to_stock(
            self.session,
            actor=self.walt,
            lot_code=lot.lot_code,
            quantity=quantity,
            batch_no=batch_no,
            key=uuid.uuid4().hex,
            clock=CLOCK,
        )


@pytest.fixture
def plant(session: Session, make_signer: Callable[..., Signer]) -> Plant:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    return Plant(
        session,
        qa=make_signer("qa", username="qa-lead", full_name="Quinn Adeyemi").user,
        walt=find_user(session, "walt"),  # type: ignore[arg-type]
        sam=find_user(session, "sam"),  # type: ignore[arg-type]
    )


def test_the_lot_list_does_not_grow_with_the_lots(
    plant: Plant, signed_in: Callable[..., Browser], count_statements: CountStatements
) -> None:
    browser = signed_in("warehouse")
    for _ in range(2):
        plant.release(plant.receive())
    paths = ("/lots/", "/lots/?q=asc")
    before = [statements(count_statements, browser, path) for path in paths]

    for material in ("RM-ASC", "RM-MCC", "RM-MGS", "RM-ASC"):
        plant.release(plant.receive(material))
    plant.receive()  # and one still in quarantine
    after = [statements(count_statements, browser, path) for path in paths]

    assert after == before
    assert (
        browser.client.get("/lots/?q=asc").get_data(as_text=True).count('class="card lot-card"')
        == 7  # the demo's ASC-2409-02 and ASC-2611-07, and five received here
    )


def test_the_lot_page_does_not_grow_with_its_movements(
    plant: Plant, signed_in: Callable[..., Browser], count_statements: CountStatements
) -> None:
    browser = signed_in("warehouse")
    lot = plant.release(plant.receive())
    for batch_no in (plant.batch("VC500-26-0101"), plant.batch("VC500-26-0102")):
        plant.issue(lot, batch_no)
    path = f"/lots/{lot.lot_code}"
    before = statements(count_statements, browser, path)

    for batch_no in (plant.batch("VC500-26-0103"), plant.batch("VC500-26-0104")):
        plant.issue(lot, batch_no, "2")
        plant.issue(lot, batch_no)
    plant.give_back(lot, "VC500-26-0101")
    plant.give_back(lot, "VC500-26-0104")
    after = statements(count_statements, browser, path)

    assert after == before
    page = browser.client.get(path).get_data(as_text=True)
    assert page.count('class="history-row"><a class="tap"') == 4  # where used: four batches


def test_the_equipment_list_does_not_grow_with_the_equipment(
    session: Session,
    signed_in: Callable[..., Browser],
    make_user: Callable[..., User],
    count_statements: CountStatements,
) -> None:
    browser = signed_in("operator")
    cleaner = make_user("operator")
    numbers = itertools.count(1)

    def add(history: int) -> Equipment:
        item = equipment.create_equipment(
            session,
            actor=SYSTEM,
            new=EquipmentIn(f"BL-{next(numbers):02}", "Blender", "blender", True, "24"),
            clock=CLOCK,
        )
        for ago in range(history):
            equipment.record_calibration(
                session,
                actor=SYSTEM,
                equipment_id=item.id,  # type: ignore[arg-type]
                certificate=f"CAL-{item.code}-{ago}",
                performed_on=(NOW - timedelta(days=30 + ago)).date(),
                due_on=(NOW + timedelta(days=100 - ago)).date(),
                clock=CLOCK,
            )
            equipment.record_cleaning(
                session,
                actor=cleaner,
                equipment_id=item.id,  # type: ignore[arg-type]
                cleaned_at=NOW - timedelta(hours=1 + ago),
                last_product=f"P{ago}",
                clock=CLOCK,
            )
        return item

    add(1)
    add(0)
    before = statements(count_statements, browser, "/equipment/")

    for history in (2, 3, 0, 1):
        add(history)
    after = statements(count_statements, browser, "/equipment/")

    assert after == before
    page = browser.client.get("/equipment/").get_data(as_text=True)
    assert page.count("Ready to use") == 4
    assert page.count("Not cleaned yet") == 2
    newest_due = (NOW + timedelta(days=100)).date()  # the newest calibration of each counts
    assert page.count(f"calibration due {newest_due}<") == 4


def test_the_pick_list_does_not_grow_with_the_lots_or_the_bill_of_materials(
    plant: Plant, signed_in: Callable[..., Browser], count_statements: CountStatements
) -> None:
    browser = signed_in("warehouse")
    batch_no = plant.batch("VC500-26-0042")
    path = f"/lots/pick?batch_no={batch_no}"
    first = plant.release(plant.receive("RM-ASC"))
    plant.issue(first, batch_no)
    before = statements(count_statements, browser, path)

    for material in ("RM-ASC", "RM-MCC", "RM-MGS"):
        for days in (30, -30):
            lot = plant.release(plant.receive(material, days=days))
            plant.issue(lot, batch_no, "0.1")  # within each line's target (0.500 kg of MGS)
    plant.receive("RM-MCC")  # not released: not offered
    after = statements(count_statements, browser, path)
    # FS-200 has four lines in its bill of materials, VC500 three.
    components = plant.batch("FS-200-26-0001", "FS-200", "10")
    plant.release(plant.receive("HSG-200"))
    four_lines = statements(count_statements, browser, f"/lots/pick?batch_no={components}")

    assert after == before
    assert four_lines == before
    page = browser.client.get(path).get_data(as_text=True)
    assert page.count('class="pick-lot"') == 10  # 7 received here, the demo's ASC, MCC, MGS


def test_the_home_page_does_not_grow_with_the_work_waiting(
    plant: Plant, app: Flask, count_statements: CountStatements
) -> None:
    """Each role's "Needs you now" is a fixed number of statements (pinned: a new kind of work
    adds to it on purpose), whatever waits: batches to pick, shipments, lots in quarantine,
    counts, equipment, training."""
    people = {}
    for username in ("walt", "quinn", "olivia", "sam", "ada"):
        people[username] = Browser(app.test_client())
        assert people[username].login(username, DEMO_PASSWORD).status_code == 302
    plant.batch("VC500-26-0101")
    plant.receive()
    before = {name: statements(count_statements, b, "/") for name, b in people.items()}

    for batch_no in ("VC500-26-0102", "VC500-26-0103", "FS-200-26-0001"):
        plant.batch(batch_no, *(("FS-200", "10") if batch_no.startswith("FS") else ()))
    plant.issue(plant.release(plant.receive()), "VC500-26-0102")
    for batch_no in ("VC500-26-0102", "VC500-26-0103"):  # on the floor: the operators' home row
        record.move_batch(
            plant.session, actor=plant.sam, batch_no=batch_no, move="started", reason="",
            clock=CLOCK,
        )  # fmt: skip
    for material in ("RM-MCC", "RM-MGS", "RM-ASC"):
        plant.receive(material)
    for customer_po in ("PO-1", "PO-2"):
        shipping.start_shipment(
            plant.session, actor=plant.walt, customer_code="CUST-GREENLEAF",
            reference=customer_po, clock=CLOCK,
        )  # fmt: skip
    corrections.propose_adjustment(
        plant.session, actor=plant.walt, lot_code="MCC-2610-01", counted="59", reason="Recount",
        clock=CLOCK,
    )  # fmt: skip
    training.record_training(
        plant.session, actor=plant.qa, user_id=plant.sam.id, curriculum_code="FS-200",  # type: ignore[arg-type]
        trained_on=CLOCK.today() - timedelta(days=400), clock=CLOCK,
    )  # fmt: skip
    after = {name: statements(count_statements, b, "/") for name, b in people.items()}

    assert after == before
    assert before == {"walt": 12, "quinn": 18, "olivia": 16, "sam": 16, "ada": 20}
