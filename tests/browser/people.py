"""What people do in the browser again and again: enrol a passkey on their phone, open the
signing dialog and answer it with a passkey or with user ID and password."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import BrowserContext, CDPSession, Page, expect

from app.services.demo import DEMO_PASSWORD


@dataclass
class Phone:
    """A person's own phone: a browser context with a platform authenticator (Touch ID-like)."""

    page: Page
    cdp: CDPSession
    authenticator_id: str

    def set_user_verified(self, verified: bool) -> None:
        self.cdp.send(
            "WebAuthn.setUserVerified",
            {"authenticatorId": self.authenticator_id, "isUserVerified": verified},
        )

    def credentials(self) -> list[dict[str, object]]:
        answer = self.cdp.send(
            "WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id}
        )
        return answer["credentials"]  # type: ignore[no-any-return]


def add_phone(context: BrowserContext, *, verifies_user: bool = True) -> Phone:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    answer = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": verifies_user,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return Phone(page, cdp, answer["authenticatorId"])


def issue_enrolment_link(admin: Page, username: str) -> str:
    """Ada, at her tablet, records nothing new (identity already checked) and issues the link."""
    admin.goto("/users/")
    admin.get_by_role("link", name=username, exact=True).click()
    admin.get_by_role("button", name="Issue passkey enrolment link").click()
    url = admin.locator("#enrolment-url").inner_text().strip()
    assert "/enrol/" in url
    return url


def enrol_passkey(page: Page, link: str, name: str) -> None:
    page.goto(link)
    page.get_by_label("Name for this passkey").fill(name)
    page.get_by_role("button", name="Create passkey").click()
    expect(page.locator("#passkeys")).to_contain_text(name)


def open_document(page: Page, code: str) -> None:
    page.goto("/documents/")
    page.get_by_role("link", name=re.compile(code)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(code)


def sign_with_passkey(page: Page, start_button: str) -> None:
    """Open the signing dialog, read it, and answer with the passkey (one biometric prompt)."""
    page.get_by_role("button", name=start_button).click()
    expect(page.locator("#sign-dialog-card")).to_be_visible()
    page.get_by_role("button", name="Sign with passkey").click()


def sign_with_password(page: Page, start_button: str, username: str) -> None:
    """Open the signing dialog and sign by re-entering user ID and password (§11.200(a))."""
    page.get_by_role("button", name=start_button).click()
    dialog = page.locator("#sign-dialog-card")
    expect(dialog).to_be_visible()
    reveal = dialog.locator("#sign-password-reveal")
    if reveal.count() and reveal.is_visible():
        reveal.click()
    dialog.get_by_label("User ID").fill(username)
    dialog.get_by_label("Password").fill(DEMO_PASSWORD)
    dialog.get_by_role("button", name="Sign", exact=True).click()


def record_qc_evidence(
    page: Page, lot_code: str, results: list[tuple[str, str, str]], *, containers: str = "1"
) -> None:
    """QA on the lot page: sample, then each (test, result, source) with source "lab" or
    "certificate" (taken from the attached certificate)."""
    page.goto(f"/lots/{lot_code}")
    evidence = page.locator("#lot-qc-evidence")
    evidence.get_by_text("Record a sample").click()
    evidence.get_by_label("Containers sampled").fill(containers)
    evidence.get_by_role("button", name="Record sample").click()
    expect(page.locator("#qc-samples")).to_contain_text(f"Sampled {containers} of")
    for test, value, source in results:
        evidence = page.locator("#lot-qc-evidence")
        evidence.get_by_text("Record a result").click()
        test_select = evidence.locator("select[name=spec_test_id]")
        option = test_select.locator("option", has_text=re.compile(f"^{test} "))
        test_select.select_option(option.get_attribute("value"))
        evidence.locator("input[name=value]").fill(value)
        evidence.locator("select[name=source]").select_option(
            "coa" if source == "certificate" else "lab"
        )
        evidence.get_by_role("button", name="Record result").click()
        result_cell = page.locator(f'#qc-results tr[data-test="{test}"] td').nth(2)
        expect(result_cell).to_contain_text(value)
