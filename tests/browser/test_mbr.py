"""Master batch records at tablet size: Ada authors revision C of VC500 from the effective
revision B, sends it to review and signs it as author; Quinn approves it with a passkey; C
becomes effective and B superseded; the comparison shows what changed."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import TABLET, LiveServer, sign_in
from tests.browser.people import (
    add_phone,
    enrol_passkey,
    issue_enrolment_link,
    sign_with_passkey,
    sign_with_password,
)


def open_revision(page: Page, recipe: str, revision: str) -> None:
    page.goto("/recipes/")
    card = page.locator(".recipe", has_text=recipe)
    card.get_by_role("link", name=f"Revision {revision}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{recipe} rev {revision}")


def status_of(page: Page) -> str:
    return page.locator("h1 .badge").get_attribute("data-status") or ""


def test_author_drafts_a_revision_qa_approves_with_a_passkey_and_the_old_one_is_superseded(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    ada = new_context(live_server.url, TABLET).new_page()
    sign_in(ada, "ada")
    ada.goto("/account")  # she signed her acknowledgement when she approved the demo's MBRs
    expect(ada.locator("#esign-status")).to_contain_text("Active")

    # A new draft, copied from the effective revision B, which Ada and Quinn signed.
    open_revision(ada, "VC500", "B")
    assert status_of(ada) == "effective"
    expect(ada.locator("#paper-approval")).to_have_count(0)
    signed = ada.locator(".signature")
    expect(signed).to_have_count(2)
    expect(signed.nth(0)).to_contain_text("Authored")
    expect(signed.nth(0)).to_contain_text("Ada Ferreira")
    expect(signed.nth(1)).to_contain_text("Approved")
    expect(signed.nth(1)).to_contain_text("Quinn Adeyemi")
    ada.get_by_role("button", name="Start a new revision").click()
    expect(ada.get_by_role("heading", level=1)).to_contain_text("VC500 rev C")
    assert status_of(ada) == "draft"

    # Tighten the blend time; a wrong limit is refused beside its field, input kept.
    blend = ada.locator(".step-card", has_text="Blend 15 min")
    blend.get_by_text("Edit step 60").click()
    blend.get_by_label("Value 1 low limit").fill("15.5")
    blend.get_by_label("Value 1 high limit").fill("14.5")
    blend.get_by_role("button", name="Save step 60").click()
    blend = ada.locator(".step-card", has_text="Blend 15 min")
    expect(blend.locator("#limit1-error")).to_have_text("Limit 1: the low limit is above the high.")
    expect(blend.get_by_label("Value 1 low limit")).to_have_value("15.5")
    blend.get_by_label("Value 1 low limit").fill("14.5")
    blend.get_by_label("Value 1 high limit").fill("15.5")
    blend.get_by_role("button", name="Save step 60").click()
    expect(ada.locator("#messages")).to_contain_text("Step 60 saved.")
    expect(ada.locator(".step-card", has_text="Blend 15 min")).to_contain_text("14.5–15.5 min")

    # Add a step and move it up above the QA release.
    ada.get_by_text("Add a step").click()
    add = ada.locator("#add-step")
    add.get_by_label("Step no.").fill("95")
    add.locator("select[name=kind]").select_option("instruction")
    add.get_by_label("Title").fill("Take retain samples")
    add.get_by_role("button", name="Add step").click()
    expect(ada.locator("#messages")).to_contain_text("Step 95 added.")
    ada.get_by_role("button", name="Move step 95 up").click()
    expect(ada.locator("#messages")).to_contain_text("Step moved.")
    codes = ada.locator(".step-code").all_inner_texts()
    assert codes[-2:] == ["95", "100"]

    ada.get_by_role("button", name="Send to review (freezes the draft)").click()
    expect(ada.locator("#messages")).to_contain_text("Sent to review")
    assert status_of(ada) == "in_review"
    expect(ada.locator("#add-step")).to_have_count(0)
    sign_with_password(ada, "Sign as author", "ada")
    expect(ada.locator(".signature")).to_contain_text("Authored")
    expect(ada.get_by_role("button", name="Approve (QA)")).to_be_visible()

    # Quinn enrols a passkey and approves on her tablet with one biometric prompt.
    link = issue_enrolment_link(ada, "quinn")
    quinn_device = add_phone(new_context(live_server.url, TABLET))
    quinn = quinn_device.page
    sign_in(quinn, "quinn")
    enrol_passkey(quinn, link, "Quinn's tablet")
    expect(quinn.locator("#esign-status")).to_contain_text("Active")  # acknowledged in the demo
    open_revision(quinn, "VC500", "C")
    sign_with_passkey(quinn, "Approve (QA)")

    expect(quinn.locator("#messages")).to_contain_text("Signed: Approved")
    assert status_of(quinn) == "effective"
    signatures = quinn.locator(".signature")
    expect(signatures).to_have_count(2)
    expect(signatures.nth(0)).to_contain_text("Ada Ferreira")
    expect(signatures.nth(1)).to_contain_text("Quinn Adeyemi")
    expect(signatures.nth(1)).to_contain_text("passkey")

    open_revision(quinn, "VC500", "B")
    assert status_of(quinn) == "superseded"
    expect(quinn.get_by_role("button", name="Start a new revision")).to_have_count(0)

    # What changed from B to C, side by side.
    open_revision(quinn, "VC500", "C")
    quinn.get_by_role("link", name="Compare with rev B").click()
    expect(quinn.locator("#diff-steps-60")).to_contain_text("Changed")
    expect(quinn.locator("#diff-steps-95")).to_contain_text("Added")
    expect(quinn.locator("#diff-bom")).to_contain_text("No changes.")


def test_operator_preview_shows_the_steps_as_the_handheld_will(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    page = new_context(live_server.url).new_page()  # handheld
    sign_in(page, "ada")
    open_revision(page, "FS-200", "C")
    page.get_by_role("link", name="Operator preview").click()

    steps = page.locator(".op-step")
    expect(steps).to_have_count(7)
    expect(page.locator("#preview-step-50")).to_contain_text("Flow error")
    expect(page.locator("#preview-step-50")).to_contain_text("each unit")
    expect(page.locator("#preview-step-30")).to_contain_text("QA hold point")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert re.search(r"/recipes/revisions/\d+/preview$", page.url)
