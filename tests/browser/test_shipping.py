"""Finished goods to the customer on a 360x740 handheld: the batch's output comes in, QA
releases it (user ID and password), the warehouse ships part of it to Greenleaf Pharmacy by
scanning the lot label, and the despatch advice lists the lot and quantity.

Issue 12 point 10, in the order of the hands: the lot label is scanned first and the cursor
moves to the quantity, shown in the lot's unit; Enter there picks and the cursor is back in the
scan field; the despatch asks one confirmation; the advice has a printable page. Story 1 step 9
("ship a lot") is counted in taps and keys from the shipment page to despatched (scans and the
digits of the quantity not counted): Enter after the quantity, Despatch, Despatch now."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from app.services.accounts.auth import find_user
from app.services.core import gs1
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from app.services.warehouse import ledger
from tests.browser.conftest import HANDHELD, LiveServer, sign_in
from tests.browser.people import record_qc_evidence, sign_with_password
from tests.browser.taps import assert_within_record
from tests.clock import CLOCK


def scan(page: Page, barcode: str) -> None:
    """What a keyboard-wedge scanner does: type into the focused field, then Enter."""
    page.keyboard.insert_text(barcode)
    page.keyboard.press("Enter")


def start_shipment(walt: Page, reference: str) -> None:
    walt.goto("/shipments/")
    walt.locator("select[name=customer]").select_option("CUST-GREENLEAF")
    walt.get_by_label("Customer's order (PO)").fill(reference)
    walt.get_by_role("button", name="Start a shipment").click()
    expect(walt.locator("#shipment-status")).to_have_text("Picking")


def fits_the_screen(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_output_in_released_and_shipped_by_scanning(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    with live_server.database.session_scope() as s:
        batches.create_batch(
            s,
            actor=find_user(s, "sam"),
            new=BatchIn("VC500", "VC500-26-0042", "100000"),
            clock=CLOCK,
        )  # type: ignore[arg-type]

    handheld = new_context(live_server.url, HANDHELD)
    # Count print dialogs instead of opening one (headless Chromium has no printer).
    handheld.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; }")
    walt = handheld.new_page()
    sign_in(walt, "walt")
    walt.get_by_role("link", name="Finished goods in").click()
    walt.locator("select[name=material]").select_option("VC500")
    walt.get_by_label("Batch number").fill("VC500-26-0042")
    walt.get_by_label("Quantity").fill("98500")
    walt.get_by_role("button", name="Confirm receipt").click()
    expect(walt.locator(".lot-status")).to_have_text("Quarantine")
    expect(walt.locator("#lot-balance")).to_have_text("98,500 tablets")
    expect(walt.locator("#lot-facts")).to_contain_text("batch VC500-26-0042")

    quinn = new_context(live_server.url, HANDHELD).new_page()
    sign_in(quinn, "quinn")
    quinn.goto("/account")
    expect(quinn.locator("#esign-status")).to_contain_text("Active")  # acknowledged in the demo
    record_qc_evidence(quinn, "VC500-26-0042", [("Assay", "99.8", "lab")])
    sign_with_password(quinn, "Release", "quinn")
    expect(quinn.locator(".lot-status")).to_have_text("Released")
    with live_server.database.session_scope() as s:
        lot = ledger.get_lot(s, "VC500-26-0042")
        label = gs1.lot_label(gtin="09501101020917", lot_code=lot.lot_code, expiry=lot.expiry)

    start_shipment(walt, "PO-8812")
    taps = 0
    scan_field = walt.get_by_label("Scan the lot label")
    quantity = walt.get_by_label("Quantity")
    expect(scan_field).to_be_focused()
    scan(walt, "]C1" + label.element_string)  # our own GS1 lot label
    expect(quantity).to_be_focused()  # Enter moved on; nothing was sent
    expect(walt.locator("#pick-unit")).to_have_text("(tablets)")
    expect(walt.locator("#shipment-lines")).to_contain_text("Nothing picked yet")
    walt.keyboard.type("40000")
    walt.keyboard.press("Enter")
    taps += 1
    expect(walt.locator("#pick-answer")).to_have_text("Picked 40,000 tablets of lot VC500-26-0042.")
    expect(walt.locator("#shipment-lines")).to_contain_text("VC500-26-0042")
    expect(scan_field).to_be_focused()  # back in the scan field for the next label
    expect(scan_field).to_have_value("")
    expect(quantity).to_have_value("")
    fits_the_screen(walt)

    walt.get_by_role("button", name="Despatch", exact=True).click()
    taps += 1
    confirm = walt.locator("#shipment-despatch")
    expect(confirm).to_contain_text("Despatch to Greenleaf Pharmacy?")
    expect(confirm).to_contain_text("1 line; in all 40,000 tablets.")
    expect(walt.locator("#shipment-status")).to_have_text("Picking")  # not yet
    fits_the_screen(walt)
    walt.get_by_role("button", name="Despatch now").click()
    taps += 1
    expect(walt.locator("#shipment-status")).to_have_text("Shipped")
    assert_within_record("ship", taps)  # story 1 step 9, as docs/usability.md records it

    advice = walt.context.request.get(walt.url + "/advice.csv")
    rows = list(csv.DictReader(io.StringIO(advice.text())))
    assert [
        (r["TLC"], r["Quantity"], r["UOM"], r["Immediate subsequent recipient name"]) for r in rows
    ] == [("VC500-26-0042", "40000", "tablets", "Greenleaf Pharmacy")]
    sha256 = advice.headers["x-content-sha256"]

    walt.get_by_role("link", name="Printable advice").click()
    expect(walt.get_by_role("heading", name="Despatch advice")).to_be_visible()
    expect(walt.locator("#advice-print-lines")).to_contain_text("Vitamin C 500 mg tablets")
    expect(walt.locator("#advice-print-lines")).to_contain_text("40,000 tablets")
    expect(walt.locator("#advice-hash")).to_contain_text(sha256)
    fits_the_screen(walt)
    walt.get_by_role("button", name="Print").click()
    assert walt.evaluate("window.printed") == 1

    walt.goto("/lots/VC500-26-0042")
    expect(walt.locator("#lot-balance")).to_have_text("58,500 tablets")


def test_a_refused_scan_keeps_the_cursor_at_fault_and_a_raw_material_asks_its_reason(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    """A label of a lot that does not exist is refused beside the scan field, its text selected
    so the next scan replaces it; a pick refused for want of a reason puts the cursor there. On a
    fresh form a raw material's scan brings the reason field, and Enter after the quantity goes
    to it instead of sending a form that would be refused."""
    walt = new_context(live_server.url, HANDHELD).new_page()
    sign_in(walt, "walt")
    start_shipment(walt, "PO-SAMPLE")
    scan_field = walt.get_by_label("Scan the lot label")
    quantity = walt.get_by_label("Quantity")
    reason = walt.get_by_label("Reason to ship it to this customer")
    unknown = "]C11728083110MCC-2610-99"  # a label of ours, of a lot that does not exist
    mcc = "]C11729033110MCC-2610-01"

    scan(walt, unknown)
    expect(quantity).to_be_focused()
    walt.keyboard.type("2")
    walt.keyboard.press("Enter")
    expect(walt.locator("#scan-error")).to_have_text("There is no lot 'MCC-2610-99'.")
    expect(scan_field).to_be_focused()
    selected = "document.activeElement.selectionEnd - document.activeElement.selectionStart"
    assert walt.evaluate(selected) == len(unknown)
    fits_the_screen(walt)

    scan(walt, mcc)  # replaces the refused scan; with the quantity kept, the form goes
    expect(walt.locator("#reason-error")).to_contain_text("Lot MCC-2610-01 is a raw material")
    expect(reason).to_be_focused()
    expect(scan_field).to_have_value(mcc)
    expect(quantity).to_have_value("2")
    walt.keyboard.type("Sample for the customer's lab")
    walt.keyboard.press("Enter")
    expect(walt.locator("#pick-answer")).to_have_text("Picked 2 kg of lot MCC-2610-01.")
    expect(walt.locator("#shipment-lines")).to_contain_text(
        "ships because: Sample for the customer's lab"
    )
    expect(scan_field).to_be_focused()
    expect(reason).to_have_count(0)  # asked only of the lot that needs it

    scan(walt, mcc)
    expect(quantity).to_be_focused()
    expect(walt.locator("#pick-unit")).to_have_text("(kg)")
    expect(walt.locator("#pick-not-finished")).to_contain_text("not a finished good")
    walt.keyboard.type("1")
    walt.keyboard.press("Enter")
    expect(reason).to_be_focused()  # the reason is still missing: nothing sent
    expect(walt.locator("#shipment-lines .pick-row")).to_have_count(1)
    walt.keyboard.type("Second sample")
    walt.keyboard.press("Enter")
    expect(walt.locator("#pick-answer")).to_have_text("Picked 1 kg of lot MCC-2610-01.")
    expect(walt.locator("#shipment-lines .pick-row")).to_have_count(2)
