"""Passkeys and e-signatures end to end in Chromium with its virtual authenticator (CDP WebAuthn):
an admin issues a one-time enrolment link, QA enrols a passkey on their phone, signs an SOP "read
and understood", sees the manifestation, signs in without a username; an operator signs the Part 11
acknowledgement with a passkey; an authenticator that does not verify the user is refused."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect
from sqlmodel import select

from app.models import Passkey, Signature, User
from tests.browser.conftest import HANDHELD, TABLET, LiveServer, sign_in, sign_out
from tests.browser.people import (
    Phone,
    add_phone,
    enrol_passkey,
    issue_enrolment_link,
    open_document,
    sign_with_passkey,
)

# Date, time and the plant's zone (Europe/Berlin in tests), as every manifestation shows them.
PLANT_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} CES?T")


@pytest.fixture
def phone(new_context: Callable[..., BrowserContext], live_server: LiveServer) -> Phone:
    return add_phone(new_context(live_server.url, HANDHELD))


def stored_signatures(server: LiveServer, username: str) -> list[Signature]:
    with server.database.session_scope() as s:
        user = s.exec(select(User).where(User.username == username)).one()
        rows = s.exec(select(Signature).where(Signature.signer_id == user.id)).all()
        s.expunge_all()
        return list(rows)


def test_qa_enrols_a_passkey_signs_an_sop_and_signs_in_with_it(
    new_context: Callable[..., BrowserContext], live_server: LiveServer, phone: Phone
) -> None:
    admin = new_context(live_server.url, TABLET).new_page()
    sign_in(admin, "ada")
    link = issue_enrolment_link(admin, "quinn")

    # The admin who issued the link cannot use it for herself.
    admin.goto(link)
    expect(admin.locator("body")).to_contain_text("only they can use it, signed in as themselves")
    expect(admin.get_by_role("button", name="Create passkey")).to_have_count(0)

    # Quinn, on her own phone: password once, then the passkey she creates.
    quinn = phone.page
    sign_in(quinn, "quinn")
    enrol_passkey(quinn, link, "Quinn's phone")
    assert len(phone.credentials()) == 1
    expect(quinn.locator("#passkeys")).to_contain_text("last used never")

    # Her one-time acknowledgement is on record since the demo was seeded (Olivia's, below,
    # is signed here with a passkey).
    expect(quinn.locator("#esign-status")).to_contain_text("Active")

    # Read and understood, signed with the passkey; the page updates in place.
    open_document(quinn, "SOP-QA-001")
    sop_url = quinn.url
    sign_with_passkey(quinn, "Sign: read and understood")
    expect(quinn.locator("#sign-done")).to_have_text("Signed.")
    assert quinn.url == sop_url
    # (The SOP also carries Quinn's approval, made when the demo was seeded.)
    signature = quinn.locator(".signature", has_text="Read and understood").first
    expect(signature).to_have_class(re.compile("signature-valid"))
    expect(signature.locator(".sig-name")).to_have_text("Quinn Adeyemi")
    expect(signature.locator(".sig-meaning")).to_have_text("Read and understood")
    expect(signature.locator(".sig-method")).to_contain_text("passkey")
    assert PLANT_TIME.fullmatch(signature.locator(".sig-time").inner_text())

    # The stored signature holds the whole assertion bound to that SOP.
    sop_signature = next(
        s
        for s in stored_signatures(live_server, "quinn")
        if s.record_type == "sop" and s.meaning == "read_and_understood"
    )
    assert sop_signature.method == "passkey"
    assert sop_signature.printed_name == "Quinn Adeyemi"
    assert sop_signature.authenticator_data and sop_signature.client_data_json
    assert sop_signature.signature

    # Anyone who opens the SOP later sees the same manifestation.
    admin.goto(sop_url)
    expect(admin.locator(".signature").first).to_contain_text("Quinn Adeyemi")

    # Usernameless sign-in with the same passkey.
    sign_out(quinn)
    quinn.get_by_role("button", name="Sign in with a passkey").click()
    expect(quinn.locator("#who .who-name")).to_have_text("Quinn Adeyemi")
    quinn.goto("/account")
    expect(quinn.locator("#passkeys")).not_to_contain_text("last used never")


def test_an_authenticator_that_does_not_verify_the_user_is_refused(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    admin = new_context(live_server.url, TABLET).new_page()
    sign_in(admin, "ada")
    link = issue_enrolment_link(admin, "olivia")

    # A second authenticator that only tests presence, never the person.
    careless = add_phone(new_context(live_server.url, HANDHELD), verifies_user=False)
    sign_in(careless.page, "olivia")
    careless.page.goto(link)
    careless.page.get_by_role("button", name="Create passkey").click()

    expect(careless.page.locator("#enrol-error")).to_contain_text("did not verify you")
    assert careless.credentials() == []
    with live_server.database.session_scope() as s:
        olivia = s.exec(select(User).where(User.username == "olivia")).one()
        assert s.exec(select(Passkey).where(Passkey.user_id == olivia.id)).all() == []

    # With user verification, the same link still works (a refused attempt did not use it up).
    careless.set_user_verified(True)
    careless.page.get_by_role("button", name="Create passkey").click()
    expect(careless.page.locator("#passkeys")).to_contain_text("My phone")

    # And a signing whose biometric check fails records nothing.
    sign_with_passkey(careless.page, "Sign the acknowledgement")  # verified: activates signing
    expect(careless.page.locator("#esign-status")).to_contain_text("Active")
    careless.set_user_verified(False)
    open_document(careless.page, "SOP-PR-014")
    sign_with_passkey(careless.page, "Sign: read and understood")

    expect(careless.page.locator("#sign-client-error")).to_contain_text("did not verify you")
    # Only the SOP's approval (Quinn's, from the seed) is on it: no signature of Olivia's.
    expect(careless.page.locator(".signature", has_text="Read and understood")).to_have_count(0)
    assert [s.record_type for s in stored_signatures(live_server, "olivia")] == [
        "esign_acknowledgement"
    ]
