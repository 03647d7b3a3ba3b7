"""The warehouse on a 360x740 handheld with a keyboard-wedge scanner (it types the barcode and
Enter into the focused field): receive a lot by scanning, print a label that scans back as GS1,
and QA releases the lot with a passkey on her phone."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import zxingcpp
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import HANDHELD, TABLET, LiveServer, sign_in
from tests.browser.people import (
    add_phone,
    enrol_passkey,
    issue_enrolment_link,
    record_qc_evidence,
    sign_with_passkey,
)

GS = "\x1d"
# Ascorbic acid from Northbridge: GTIN, expiry 2028-05-31, supplier lot S-88231, 25.00 kg net.
SUPPLIER_LABEL = f"]C101040123450000161728053110S-88231{GS}3102002500"


def scan(page: Page, barcode: str) -> None:
    """What a keyboard-wedge scanner does: type into the focused field, then Enter."""
    page.keyboard.insert_text(barcode)
    page.keyboard.press("Enter")


def test_walt_receives_by_scanning_and_quinn_releases_with_a_passkey(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    handheld = new_context(live_server.url, HANDHELD)
    # Count print dialogs instead of opening one (headless Chromium has no printer).
    handheld.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; }")
    walt = handheld.new_page()
    sign_in(walt, "walt")
    walt.get_by_role("link", name="Receive").click()
    expect(walt.locator("#scan")).to_be_focused()

    # A label with a wrong check digit is refused where it was scanned.
    scan(walt, "]C10104012345000017172805311" + "0S-1")
    expect(walt.locator("#scan-error")).to_contain_text(
        "The GTIN 04012345000017 has a wrong check digit (7; it should be 6)"
    )
    expect(walt.locator("#scan")).to_be_focused()

    scan(walt, SUPPLIER_LABEL)
    form = walt.locator("#receipt-form")
    expect(form.locator("select[name=material]")).to_have_value("RM-ASC")
    expect(form.locator("select[name=supplier]")).to_have_value("SUP-NORTHBRIDGE")
    expect(form.get_by_label("Supplier's lot")).to_have_value("S-88231")
    expect(form.get_by_label("Expiry")).to_have_value("2028-05-31")
    expect(form.get_by_label("Quantity (kg)")).to_have_value("25.00")
    form.get_by_label("Containers").fill("2")

    # The same form sent twice (a double tap, a retry after a dropped connection) is one lot.
    key = form.locator("input[name=key]").input_value()
    form.get_by_role("button", name="Receive into quarantine").click()
    expect(walt.locator(".lot-status")).to_have_text("Quarantine")
    lot_code = walt.locator("h1.lot-code").inner_text()
    assert re.fullmatch(r"ASC-\d{4}-\d{2}", lot_code)
    expect(walt.locator("#messages")).to_contain_text(f"Received into quarantine as lot {lot_code}")
    retry = walt.context.request.post(
        "/lots/receive",
        form={
            "csrf_token": walt.locator("input[name=csrf_token]").first.input_value(),
            "key": key,
            "material": "RM-ASC",
            "supplier": "SUP-NORTHBRIDGE",
            "supplier_lot": "S-88231",
            "quantity": "25.00",
            "containers": "2",
            "expiry": "2028-05-31",
        },
    )
    assert retry.ok
    assert f"already recorded as lot {lot_code}" in retry.text()
    walt.goto("/lots/?q=S-88231")
    expect(walt.locator(".lot-card")).to_have_count(2)  # this one and the demo's ASC-2611-07

    # The label: GS1-128 that scans back to GTIN, expiry and our lot code.
    walt.goto(f"/lots/{lot_code}")
    walt.get_by_role("button", name="Print lot labels (2 containers)").click()
    expect(walt.locator(".label-hri")).to_have_text(
        [f"(01)04012345000016(17)280531(10){lot_code}"] * 2  # one label per container
    )
    expect(walt.locator(".label-status")).to_have_text(["QUARANTINE"] * 2)
    walt.wait_for_function("window.printed === 1")
    # A preview is marked as one and has nothing to scan; it records nothing.
    walt.goto(f"/lots/{lot_code}/label")
    expect(walt.locator(".label-preview-mark")).to_have_text("PREVIEW — NOT A LABEL")
    expect(walt.locator(".label-barcode svg")).to_have_count(0)
    # Scanned back from the screen of a sharp display (a printer is sharper still): a reprint,
    # which needs its reason.
    sharp_context = new_context(live_server.url, {**TABLET, "device_scale_factor": 3})
    sharp_context.add_init_script("window.print = () => {};")
    sharp = sharp_context.new_page()
    sign_in(sharp, "walt")
    sharp.goto(f"/lots/{lot_code}")
    sharp.get_by_role("button", name="Reprint lot labels (2 containers)").click()
    expect(sharp.locator("#reason-error")).to_have_text(
        "This label was printed before: give a reason for the reprint."
    )
    sharp.get_by_label("Reason for the reprint").fill("Check the barcode scans")
    sharp.get_by_role("button", name="Reprint lot labels (2 containers)").click()
    picture = sharp.locator(".label-barcode svg").first.screenshot(scale="device")
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(picture)))
    assert [(b.format.name, b.symbology_identifier, b.text) for b in found] == [
        ("Code128", "]C1", f"(01)04012345000016(17)280531(10){lot_code}")
    ]

    # The supplier's certificate came with the delivery: Walt attaches it (a PDF).
    walt.goto(f"/lots/{lot_code}")
    expect(walt.locator("#release-needs")).to_contain_text("No result yet for Identity (FTIR")
    expect(walt.get_by_text("Record a sample")).to_have_count(0)  # he received it
    walt.get_by_text("Attach the certificate of analysis").click()
    walt.get_by_label("PDF, PNG or JPEG").set_input_files(
        files=[{"name": "COA S-88231.pdf", "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n% Northbridge certificate S-88231\n"}]
    )  # fmt: skip
    walt.get_by_role("button", name="Attach certificate").click()
    expect(walt.locator("#qc-certificates")).to_contain_text("COA S-88231.pdf")

    # Quinn samples two containers, tests identity by FTIR, takes the assay from the qualified
    # supplier's certificate, and releases it from her phone with one biometric prompt.
    admin = new_context(live_server.url, HANDHELD).new_page()
    sign_in(admin, "ada")
    link = issue_enrolment_link(admin, "quinn")
    phone = add_phone(new_context(live_server.url, HANDHELD))
    quinn = phone.page
    sign_in(quinn, "quinn")
    enrol_passkey(quinn, link, "Quinn's phone")
    expect(quinn.locator("#esign-status")).to_contain_text("Active")  # acknowledged in the demo
    record_qc_evidence(
        quinn, lot_code, [("Identity", "conforms", "lab"), ("Assay", "99.6", "certificate")],
        containers="2",
    )  # fmt: skip
    expect(quinn.locator("#release-needs")).to_contain_text("the lot may be released")
    sign_with_passkey(quinn, "Release")

    expect(quinn.locator(".lot-status")).to_have_text("Released")
    expect(quinn.locator("#lot-signatures .signature")).to_contain_text("Released")
    expect(quinn.locator("#lot-signatures .signature")).to_contain_text("Quinn Adeyemi")
    walt.goto(f"/lots/{lot_code}")
    expect(walt.locator(".lot-status")).to_have_text("Released")
    expect(walt.locator("#lot-qc")).to_have_count(0)  # QC decisions are QA's
    # The containers still say QUARANTINE: the lot page says so until the label is reprinted.
    expect(walt.locator("#label-out-of-date")).to_contain_text("Label out of date")
    # The history in sentences, not event names (issue 12 point 12).
    expect(walt.locator("#lot-history")).to_contain_text(
        "Released by Quinn Adeyemi — passkey signature"
    )
    expect(walt.locator("#lot-history")).not_to_contain_text("signature.created")

    # Sam plans the batch from the effective revision; its bill of materials is scaled.
    sam = new_context(live_server.url, TABLET).new_page()
    sign_in(sam, "sam")
    sam.get_by_role("link", name="Batches").click()
    sam.get_by_text("New batch").click()
    sam.get_by_label("Product").select_option("VC500")
    expect(sam.get_by_label("Planned quantity")).to_have_value("100000")  # the nominal batch
    sam.get_by_label("Batch number").fill("VC500-26-0042")
    sam.get_by_role("button", name="Check", exact=True).click()
    sam.get_by_role("button", name="Create batch").click()
    expect(sam.locator("#batch-bom")).to_contain_text("55.000 kg")

    # Picking for the batch offers the new lot first (the expired lot is not offered).
    walt.goto("/lots/pick")
    walt.get_by_label("Batch").select_option("VC500-26-0042")
    walt.get_by_role("button", name="Show what to pick").click()
    asc = walt.locator("#pick-RM-ASC")
    expect(asc).to_contain_text("Needed 55.000 kg")
    # Two released lots expire on 2028-05-31: the demo's ASC-2611-07 and this one.
    expect(asc.locator(".pick-lot")).to_have_count(2)
    # Tapping the lot names it as a hint; the label of the lot in hand is scanned, and Enter
    # sends the form because batch and quantity are there already. Back to the pick list.
    asc.locator(".pick-lot a", has_text=lot_code).click()
    expect(walt.get_by_label("Quantity")).to_have_value("25.00")
    expect(walt.locator("#issue-form")).to_contain_text(f"pick list: lot {lot_code}")
    expect(walt.get_by_label("Scan the lot label")).to_be_focused()
    scan(walt, "]C10104012345000016172805311" + f"0{lot_code}")
    expect(walt.locator("#messages")).to_contain_text(f"Issued 25.00 kg of lot {lot_code}")
    expect(walt.locator("#pick-RM-ASC")).to_contain_text("issued 25.00 kg")
    walt.goto(f"/lots/{lot_code}")
    expect(walt.locator("#lot-balance")).to_have_text("0.00 kg")
    expect(walt.locator("#lot-where-used")).to_contain_text("VC500-26-0042 — 25.00 kg")


def test_scans_into_issue_follow_the_enter_rules(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    """Issue 12 point 2: scanning the batch number moves on instead of sending a half form; a
    refusal puts the cursor in the field at fault, its text selected, so the next scan replaces
    it; our own GS1 lot label is read in the lot field."""
    walt = new_context(live_server.url, HANDHELD).new_page()
    sign_in(walt, "walt")
    walt.goto("/lots/issue")
    expect(walt.get_by_label("Batch number")).to_be_focused()
    scan(walt, "VC500-26-0042")
    expect(walt.get_by_label("Scan the lot label")).to_be_focused()
    assert walt.url.endswith("/lots/issue")  # nothing was sent
    scan(walt, "]C11728083110MGS-2610-99")  # a label of ours, of a lot that does not exist
    expect(walt.get_by_label("Quantity")).to_be_focused()
    walt.keyboard.type("0.1")
    walt.keyboard.press("Enter")
    expect(walt.locator("#lot-error")).to_have_text("There is no lot 'MGS-2610-99'.")
    lot_field = walt.get_by_label("Scan the lot label")
    expect(lot_field).to_be_focused()
    expect(walt.get_by_label("Batch number")).to_have_value("VC500-26-0042")
    assert walt.evaluate("document.body.scrollWidth") <= 360  # the long scan does not widen it
    scan(walt, "]C11728083110MGS-2610-01")  # replaces the selected text, is not appended
    expect(walt.locator("#messages")).to_contain_text("Issued 0.1 kg of lot MGS-2610-01")


def test_an_expired_lot_is_refused_at_issue_with_the_reason(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    walt = new_context(live_server.url, HANDHELD).new_page()
    sign_in(walt, "walt")
    walt.goto("/lots/issue")
    walt.get_by_label("Batch number").fill("VC500-26-0042")
    walt.get_by_label("Scan the lot label").fill("ASC-2409-02")
    walt.get_by_label("Quantity").fill("5")
    walt.get_by_role("button", name="Issue").click()

    expect(walt.locator("#issue-form")).to_contain_text("Lot ASC-2409-02 expired on 2026-09-30.")
    assert walt.url.endswith("/lots/issue")
    walt.goto("/lots/ASC-2409-02")
    expect(walt.locator("#lot-balance")).to_have_text("40 kg")
    expect(walt.locator("[data-expired]")).to_contain_text("Expired 2026-09-30")


def test_choosing_the_material_by_hand_loads_its_suppliers_at_once(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    """Issue 12 point 8: a delivery without a readable label is received by hand; choosing the
    material fills the supplier list there and then (its only approved supplier chosen), not
    after a refused submit, and what was typed stays."""
    walt = new_context(live_server.url, HANDHELD).new_page()
    sign_in(walt, "walt")
    walt.goto("/lots/receive")
    form = walt.locator("#receipt-form")
    form.get_by_label("Supplier's lot").fill("S-HAND-1")
    expect(form.locator("select[name=supplier] option")).to_have_count(
        1
    )  # "Choose the material first"
    form.locator("select[name=material]").select_option("RM-ASC")
    expect(form.locator("select[name=supplier]")).to_have_value("SUP-NORTHBRIDGE")
    expect(form.get_by_label("Supplier's lot")).to_have_value("S-HAND-1")
    assert walt.url.endswith("/lots/receive")  # the page stayed; only the form was asked again
