"""Issue 12 point 13: the taps of the flows the floor repeats all day, re-measured on a handheld.
The numbers live in docs/usability.md; a flow that needs more taps than recorded there (or than
its target) fails here."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import BrowserContext, Locator, Page, expect

from app.services.accounts.auth import find_user
from app.services.warehouse import receipt
from app.services.warehouse.receipt import ReceiptIn
from tests.browser.conftest import HANDHELD, LiveServer, sign_in
from tests.browser.people import add_phone, enrol_passkey, issue_enrolment_link
from tests.clock import NOW, at
from tests.quality import pass_qc

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

DOC = Path(__file__).resolve().parents[2] / "docs" / "usability.md"
GS = "\x1d"


def recorded(flow: str) -> tuple[int, int]:
    """(target, taps) of `flow` in docs/usability.md's table."""
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == flow:
            return int(cells[-2]), int(cells[-1])
    raise AssertionError(f"{flow} is not in {DOC.name}")


class Hand:
    """What a person does by hand, counted: a tap on a control is one, a value typed into a field
    counts with its tap, a scan is none (the scanner's trigger; the cursor is already there)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.taps = 0

    def tap(self, target: Locator) -> None:
        expect(target).to_be_visible()
        target.click()
        self.taps += 1

    def type(self, field: Locator, value: str) -> None:
        expect(field).to_be_visible()
        field.fill(value)
        self.taps += 1

    def scan(self, barcode: str) -> None:
        self.page.keyboard.insert_text(barcode)
        self.page.keyboard.press("Enter")


def assert_within_record(flow: str, hand: Hand) -> None:
    target, taps = recorded(flow)
    assert taps <= target, f"{DOC.name} records {taps} taps for {flow}, over its target {target}"
    assert hand.taps <= taps, f"{flow} now takes {hand.taps} taps; {DOC.name} records {taps}"


def test_receive_a_delivery_and_print_its_labels(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    handheld = new_context(live_server.url, HANDHELD)
    handheld.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; }")
    page = handheld.new_page()
    sign_in(page, "walt")
    page.goto("/lots/receive")
    expect(page.locator("#scan")).to_be_focused()
    hand = Hand(page)

    hand.scan(f"]C101040123450000161728053110S-77{GS}3102002500")
    form = page.locator("#receipt-form")
    expect(form.locator("select[name=supplier]")).to_have_value("SUP-NORTHBRIDGE")
    hand.type(form.get_by_label("Containers"), "2")
    hand.tap(form.get_by_role("button", name="Receive into quarantine"))
    expect(page.locator(".lot-status")).to_have_text("Quarantine")
    hand.tap(page.get_by_role("button", name=re.compile(r"^Print lot labels \(2 containers\)")))
    expect(page.locator(".lot-label")).to_have_count(2)
    page.wait_for_function("window.printed === 1")

    assert_within_record("receive", hand)


def _ready_for_release(live_server: LiveServer, supplier_lot: str, hours: int) -> str:
    """A lot walt received (later than anything else in the plant) with quinn's passing
    sample and results: all its release needs is her decision."""
    with live_server.database.session_scope() as s:
        lot, _ = receipt.receive(
            s,
            actor=find_user(s, "walt"),  # type: ignore[arg-type]
            new=ReceiptIn("RM-ASC", "SUP-NORTHBRIDGE", supplier_lot, "25", date(2028, 5, 31),
                          key=f"tap-{supplier_lot}"),
            clock=at(NOW + timedelta(hours=hours)),
        )  # fmt: skip
        pass_qc(s, lot, find_user(s, "quinn"))  # type: ignore[arg-type]
        return lot.lot_code


def test_release_the_next_lot_with_a_passkey(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    first = _ready_for_release(live_server, "S-TAP-1", 100)
    second = _ready_for_release(live_server, "S-TAP-2", 101)
    admin = new_context(live_server.url, HANDHELD).new_page()
    sign_in(admin, "ada")
    link = issue_enrolment_link(admin, "quinn")
    phone = add_phone(new_context(live_server.url, PHONE))
    page = phone.page
    sign_in(page, "quinn")
    enrol_passkey(page, link, "Quinn's phone")
    page.goto(f"/lots/{first}")
    page.get_by_role("button", name="Release").click()
    # The panel opens in view on the phone, its passkey button under the thumb.
    expect(page.locator("#sign-dialog-card")).to_be_in_viewport(ratio=0.9)
    expect(page.get_by_role("button", name="Sign with passkey")).to_be_focused()
    page.get_by_role("button", name="Sign with passkey").click()
    expect(page.locator(".lot-status")).to_have_text("Released")

    hand = Hand(page)
    hand.tap(page.locator("#next-lot"))
    expect(page.locator("h1.lot-code")).to_have_text(second)
    hand.tap(page.get_by_role("button", name="Release"))
    expect(page.locator("#sign-dialog-card")).to_be_in_viewport(ratio=0.9)
    hand.tap(page.get_by_role("button", name="Sign with passkey"))
    expect(page.locator(".lot-status")).to_have_text("Released")
    expect(page.locator("#lot-signatures")).to_contain_text("Quinn Adeyemi")

    assert_within_record("release-next", hand)
