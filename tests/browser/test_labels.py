"""Labels per container on a 360x740 handheld (issue 12 points 8 and 11): a lot in three
containers prints three labels, "1 of 3" to "3 of 3", each on its own printed page, with a Print
button in view; the reprint asks for its reason, and a reprint without one is answered beside
the reason field, in place, with the cursor in it."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date

import zxingcpp
from PIL import Image
from playwright.sync_api import BrowserContext, expect

from app.services.accounts.auth import find_user
from app.services.warehouse import receipt
from app.services.warehouse.receipt import ReceiptIn
from tests.browser.conftest import HANDHELD, LiveServer, sign_in
from tests.clock import CLOCK

# A PDF page object (not the /Pages tree that holds them).
PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-z])")


def _receive_in_three_containers(live_server: LiveServer) -> str:
    with live_server.database.session_scope() as s:
        lot, _ = receipt.receive(
            s,
            actor=find_user(s, "walt"),  # type: ignore[arg-type]
            new=ReceiptIn("RM-ASC", "SUP-NORTHBRIDGE", "S-3C", "75", date(2028, 5, 31), "3",
                          key="three-containers"),
            clock=CLOCK,
        )  # fmt: skip
        return lot.lot_code


def test_three_containers_print_three_labels_with_a_print_button_in_view(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    lot_code = _receive_in_three_containers(live_server)
    handheld = new_context(live_server.url, {**HANDHELD, "device_scale_factor": 3})
    # Count print dialogs instead of opening one (headless Chromium has no printer).
    handheld.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; }")
    walt = handheld.new_page()
    sign_in(walt, "walt")
    walt.goto(f"/lots/{lot_code}")

    section = walt.locator("section[id$='-label']")
    expect(section.get_by_label("Reason for the reprint")).to_have_count(0)  # a first print
    expect(section).to_contain_text("One label per container: 3 labels")
    section.get_by_role("button", name="Print lot labels (3 containers)").click()

    labels = walt.locator(".lot-label")
    expect(labels).to_have_count(3)
    expect(walt.locator(".label-container")).to_have_text(
        ["Container 1 of 3", "Container 2 of 3", "Container 3 of 3"]
    )
    expect(walt.locator("[data-autoprint][data-autoprinted]")).to_have_count(1)
    assert walt.evaluate("window.printed") == 1  # the dialog opened by itself, once
    button = walt.get_by_role("button", name="Print 3 labels")
    expect(button).to_be_in_viewport()
    assert (button.bounding_box() or {}).get("height", 0) >= 48  # a gloved thumb's target
    button.click()
    assert walt.evaluate("window.printed") == 2
    assert walt.evaluate("document.documentElement.scrollWidth") <= 360  # nothing overflows

    # Every label scans as the lot's barcode, the third (drawn again from the first) too.
    for n in (1, 3):
        picture = walt.locator(f"#lot-label-{n} .label-barcode svg").screenshot(scale="device")
        found = zxingcpp.read_barcodes(Image.open(io.BytesIO(picture)))
        assert [b.text for b in found] == [f"(01)04012345000016(17)280531(10){lot_code}"]

    # Printed, each container's label is a page of its own; nothing else is printed.
    pdf = walt.pdf(width="105mm", height="148mm")  # A6
    assert len(PDF_PAGE.findall(pdf)) == 3

    # Back on the lot page, a print is a reprint: its reason is asked for, and a reprint
    # without one is answered beside the field, in the section, with the cursor in it.
    walt.goto(f"/lots/{lot_code}")
    reason = walt.get_by_label("Reason for the reprint")
    expect(reason).to_be_visible()
    reprint = walt.get_by_role("button", name="Reprint lot labels (3 containers)")
    reprint.scroll_into_view_if_needed()
    reprint.click()
    error = walt.locator("#reason-error")
    expect(error).to_have_text("This label was printed before: give a reason for the reprint.")
    expect(walt.get_by_label("Reason for the reprint")).to_be_focused()
    expect(error).to_be_in_viewport()
    field_box = walt.get_by_label("Reason for the reprint").bounding_box()
    error_box = error.bounding_box()
    assert field_box and error_box
    assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 40  # right below it
    assert walt.url.endswith(f"/lots/{lot_code}")  # the page stayed; only the section changed
    expect(walt.locator(".lot-label")).to_have_count(0)

    walt.get_by_label("Reason for the reprint").fill("Drum 2 label torn")
    walt.get_by_role("button", name="Reprint lot labels (3 containers)").click()
    expect(walt.locator(".lot-label")).to_have_count(3)
    expect(walt.locator("#label-sheet-note")).to_contain_text("recorded as a reprint")
    expect(walt.locator("[data-autoprint][data-autoprinted]")).to_have_count(1)
    # Swapped in by the boosted form (this page's count started at the lot page): printed once.
    assert walt.evaluate("window.printed") == 1
