"""Batches started right (issue 12 points 7 and 9): Sam, on the supervisor's 800x1280 tablet,
chooses a product and gets its nominal batch without a reload, checks the scaled bill of
materials, then creates the batch; a fraction of a tablet is refused beside the field with
everything he typed kept. A wrong batch is cancelled with a reason and leaves Walt's pick list.
Olivia (operator) is never offered a form the service would refuse her."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from app.services.accounts.auth import find_user
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from tests.browser.conftest import HANDHELD, TABLET, LiveServer, sign_in
from tests.clock import CLOCK

NO_HORIZONTAL_SCROLL_JS = "() => document.documentElement.scrollWidth <= window.innerWidth"


def test_sam_gets_the_nominal_batch_checks_the_scaled_bom_and_creates_it(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    sam = new_context(live_server.url, TABLET).new_page()
    sign_in(sam, "sam")
    sam.goto("/batches/")
    sam.get_by_text("New batch", exact=True).click()
    form = sam.locator("#new-batch-form")
    form.get_by_label("Batch number").fill("VC500-26-0042")
    sam.evaluate("() => { window.sameDocument = true; }")

    form.get_by_label("Product").select_option("VC500")
    planned = sam.locator("#new-batch-form input[name=planned]")
    expect(planned).to_have_value("100000")
    expect(sam.locator("#new-batch-form")).to_contain_text("nominal batch of VC500 rev B")
    assert sam.evaluate("() => window.sameDocument === true"), "the page was reloaded"
    expect(sam.locator("#new-batch-form input[name=batch_no]")).to_have_value("VC500-26-0042")

    # Half a tablet: refused beside the quantity; nothing typed is lost.
    planned.fill("100000.5")
    sam.get_by_role("button", name="Check", exact=True).click()
    expect(sam.locator("#planned-error")).to_have_text(
        "The quantity is counted in tablets: a whole number."
    )
    expect(sam.locator("#new-batch-form input[name=batch_no]")).to_have_value("VC500-26-0042")
    expect(sam.locator("#new-batch-form select[name=recipe]")).to_have_value("VC500")
    expect(planned).to_be_focused()  # the field at fault, its text selected to type over

    sam.keyboard.type("100000")
    sam.keyboard.press("Enter")  # the form is complete: Enter checks it
    bom = sam.locator("#new-batch-bom")
    expect(bom.locator("[data-material=RM-ASC]")).to_contain_text("55.000 kg")
    expect(bom.locator("[data-material=RM-MGS]")).to_contain_text("0.500 kg")
    expect(sam.locator("#new-batch-check")).to_contain_text("100,000 tablets")
    with live_server.database.session_scope() as s:
        assert batches.list_batches(s) == []  # checked, not created

    sam.get_by_role("button", name="Create batch").click()
    expect(sam.get_by_role("heading", level=1)).to_contain_text("VC500-26-0042")
    expect(sam.locator("#batch-bom")).to_contain_text("55.000 kg")
    expect(sam.locator("#messages")).to_contain_text("Batch VC500-26-0042 created")


def test_a_wrong_batch_is_cancelled_with_a_reason_and_leaves_the_pick_list(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    with live_server.database.session_scope() as s:
        batches.create_batch(
            s, actor=find_user(s, "sam"), new=BatchIn("FS-200", "FS200-26-0099", "10"),
            clock=CLOCK,
        )  # type: ignore[arg-type]  # fmt: skip
    sam = new_context(live_server.url, HANDHELD).new_page()
    sign_in(sam, "sam")
    sam.goto("/batches/FS200-26-0099")
    cancel = sam.locator("section[id$=-cancel]")
    cancel.get_by_text("Cancel this batch…").click()
    cancel.get_by_role("button", name="Cancel the batch").click()
    expect(cancel.locator("#reason-error")).to_have_text(
        "Give a reason; it is kept in the audit trail."
    )
    cancel.get_by_label("Reason").fill("Planned twice; FS200-26-0007 is the job")
    cancel.get_by_role("button", name="Cancel the batch").click()
    expect(sam.locator("#batch-cancelled")).to_contain_text("Cancelled by Samira Novak")
    expect(sam.locator("#batch-cancelled")).to_contain_text("Planned twice")
    expect(sam.get_by_role("heading", level=1)).to_contain_text("Cancelled")
    expect(sam.get_by_role("link", name="Pick its materials")).to_have_count(0)
    assert sam.evaluate(NO_HORIZONTAL_SCROLL_JS)

    walt = new_context(live_server.url, HANDHELD).new_page()
    sign_in(walt, "walt")
    walt.goto("/lots/pick")
    expect(walt.locator("select[name=batch_no] option[value='FS200-26-0099']")).to_have_count(0)


def test_olivia_is_not_offered_a_new_batch(handheld: Page) -> None:
    """Olivia is an operator (SCENARIOS.md): the form she could only be refused is not shown."""
    sign_in(handheld, "olivia")
    handheld.goto("/batches/")
    expect(handheld.get_by_role("heading", name="Batches")).to_be_visible()
    expect(handheld.get_by_text("New batch", exact=True)).to_have_count(0)
    expect(handheld.locator("#new-batch-form")).to_have_count(0)
