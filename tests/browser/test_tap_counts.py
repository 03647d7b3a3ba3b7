"""Issue 12 point 13: the taps of the flows the floor repeats all day, re-measured on a handheld.
The numbers live in docs/usability.md; a flow that needs more taps than recorded there (or than
its target) fails here."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from playwright.sync_api import BrowserContext, expect

from app.services.accounts.auth import find_user
from app.services.warehouse import receipt
from app.services.warehouse.receipt import ReceiptIn
from tests.browser.conftest import HANDHELD, LiveServer, sign_in
from tests.browser.people import add_phone, enrol_passkey, issue_enrolment_link
from tests.browser.taps import GS, Hand, assert_within_record
from tests.clock import NOW, at
from tests.quality import pass_qc

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


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

    assert_within_record("receive", hand.taps)


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

    assert_within_record("release-next", hand.taps)
