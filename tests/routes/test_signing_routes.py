"""The signing dialog and passkey ceremonies over HTTP (htmx partials, JSON for fetch())."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from app.models import AuditEvent, DocumentRevision, Passkey, Signature, User
from app.services.esign import passkeys, signers
from tests.clock import CLOCK, at
from tests.conftest import PASSWORD, make_settings
from tests.routes.conftest import Browser, csrf_token
from tests.signing import NOW, Signer, enrol, rewrite_sop_text
from tests.soft_authenticator import SoftAuthenticator


def _signed_in(browser: Browser, user: User) -> Browser:
    assert browser.login(user).status_code == 302
    return browser


def _start(browser: Browser, record_type: str, record_id: object, meaning: str) -> tuple[int, str]:
    response = browser.post(
        "/sign/start",
        {"record_type": record_type, "record_id": record_id, "meaning": meaning},
        htmx=True,
    )
    return response.status_code, response.get_data(as_text=True)


def _challenge_url(dialog: str) -> str:
    match = re.search(r'hx-post="(/sign/\d+)"', dialog)
    assert match, dialog
    return match.group(1)


def _options(dialog: str) -> str:
    match = re.search(r'data-options="([^"]+)"', dialog)
    assert match, "no passkey button in the dialog"
    return html.unescape(match.group(1))


def _finish(
    browser: Browser, dialog: str, sop: DocumentRevision, **fields: object
) -> tuple[int, str, dict[str, str]]:
    data = {"record_type": "sop", "record_id": sop.id, "meaning": "read_and_understood", **fields}
    response = browser.post(_challenge_url(dialog), data, htmx=True)
    return response.status_code, response.get_data(as_text=True), dict(response.headers)


def test_dialog_says_what_is_signed_and_with_what_meaning(
    browser: Browser, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    s = make_signer()
    status, dialog = _start(_signed_in(browser, s.user), "sop", sop.id, "read_and_understood")
    assert status == 200
    assert (
        "You are signing <strong>SOP-QA-001 rev 3 “Good documentation practice”</strong>" in dialog
    )
    assert "with the meaning <strong>“Read and understood”</strong>" in dialog
    assert "legally binding" in dialog
    assert json.loads(_options(dialog))["userVerification"] == "required"
    # A person with a passkey signs with it: the password fallback is not offered.
    assert "Sign with user ID and password" not in dialog


def test_not_activated_user_gets_a_403_with_the_reasons(
    browser: Browser, make_user: Callable[..., User], sop: DocumentRevision
) -> None:
    user = make_user("operator")
    status, body = _start(_signed_in(browser, user), "sop", sop.id, "read_and_understood")
    assert status == 403
    assert "not active for you yet. Next step: an admin checks your identity" in body
    assert "Sign the acknowledgement" not in body  # not a step they can take yet


def test_the_first_signature_names_the_one_missing_step_and_comes_back(
    browser: Browser,
    make_user: Callable[..., User],
    admin: User,
    session: Session,
    sop: DocumentRevision,
) -> None:
    """Issue 12 point 6: identity checked, acknowledgement not signed yet: the dialog says that
    one step, links to it, and the signing page leads back to the record afterwards."""
    user = make_user("qa")
    signers.record_identity_check(
        session, actor=admin, user_id=user.id, document_type="passport",  # type: ignore[arg-type]
        document_reference="X1", clock=at(NOW),
    )  # fmt: skip
    _signed_in(browser, user)
    response = browser.post(
        "/sign/start",
        {"record_type": "sop", "record_id": sop.id, "meaning": "read_and_understood"},
        htmx=True,
        headers={"HX-Current-URL": f"http://localhost/documents/{sop.id}?tab=1"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "identity" not in body  # done already: not named again
    assert "One step is left: sign the one-time acknowledgement" in body
    link = re.search(r'id="sign-missing-step" href="([^"]+)"', body)
    assert link, body
    assert html.unescape(link.group(1)) == f"/account?next=/documents/{sop.id}?tab%3D1"
    page = browser.client.get(html.unescape(link.group(1))).get_data(as_text=True)
    assert 'id="back-to-record-link"' in page
    assert f'href="/documents/{sop.id}?tab=1"' in page
    # A foreign address is never offered as the way back.
    elsewhere = browser.client.get("/account?next=https://evil.example/x").get_data(as_text=True)
    assert "back-to-record" not in elsewhere


def test_passkey_signature_over_http_shows_the_manifestation(
    browser: Browser, make_signer: Callable[..., Signer], sop: DocumentRevision
) -> None:
    s = make_signer(full_name="Quinn Adeyemi")
    _signed_in(browser, s.user)
    _status, dialog = _start(browser, "sop", sop.id, "read_and_understood")
    credential = s.authenticator.get_assertion(_options(dialog))
    status, body, headers = _finish(
        browser, dialog, sop, method="passkey", credential=json.dumps(credential)
    )
    assert status == 200
    assert headers["HX-Trigger"] == "record-signed"
    assert f'id="signatures-sop-{sop.id}"' in body and 'hx-swap-oob="true"' in body
    assert "Quinn Adeyemi" in body
    assert "Read and understood" in body
    # Plant time (Europe/Berlin in tests) with the zone's abbreviation.
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d CES?T", body)
    page = browser.client.get(f"/documents/{sop.document_id}").get_data(as_text=True)
    assert "Quinn Adeyemi" in page and "(passkey)" in page


def test_password_signature_over_http(
    browser: Browser, make_signer: Callable[..., Signer], sop: DocumentRevision, session: Session
) -> None:
    s = make_signer(with_passkey=False)
    _signed_in(browser, s.user)
    _status, dialog = _start(browser, "sop", sop.id, "read_and_understood")
    status, body, _h = _finish(
        browser, dialog, sop, method="password", username=s.user.username, password=PASSWORD
    )
    assert status == 200
    assert "(user ID and password)" in body
    assert session.exec(
        select(Signature).where(Signature.method == "password", Signature.record_type == "sop")
    ).one()


def test_wrong_password_reopens_the_dialog_and_the_failure_is_kept(
    browser: Browser, make_signer: Callable[..., Signer], sop: DocumentRevision, session: Session
) -> None:
    s = make_signer(with_passkey=False)
    _signed_in(browser, s.user)
    _status, dialog = _start(browser, "sop", sop.id, "read_and_understood")
    status, body, _h = _finish(
        browser, dialog, sop, method="password", username=s.user.username, password="wrong"
    )
    assert status == 422
    assert "user ID or password is not correct" in body
    assert _challenge_url(body) != _challenge_url(dialog)  # a fresh ceremony to try again
    session.expire_all()
    assert session.get(User, s.user.id).signing_failures == 1  # type: ignore[union-attr]


def test_lock_after_failures_alerts_the_admin_home(
    app: Flask, make_signer: Callable[..., Signer], sop: DocumentRevision, admin: User
) -> None:
    s = make_signer(with_passkey=False)
    browser = _signed_in(Browser(app.test_client()), s.user)
    for _ in range(5):  # default policy: 5 failures
        _status, dialog = _start(browser, "sop", sop.id, "read_and_understood")
        if 'hx-post="/sign/' not in dialog:
            break
        status, body, _h = _finish(
            browser, dialog, sop, method="password", username=s.user.username, password="wrong"
        )
    assert status == 403
    assert "locked" in body
    admin_browser = Browser(app.test_client())
    admin_browser.login(admin)
    home = admin_browser.client.get("/").get_data(as_text=True)
    assert 'id="security-alerts"' in home
    assert f"Signing locked for {s.user.full_name}" in home


def test_rejection_reasons_are_asked_beside_their_fields(
    browser: Browser, make_signer: Callable[..., Signer]
) -> None:
    """The reason comes first, is signed with the rest, and is shown in the ceremony step."""
    s = make_signer(with_passkey=False)
    _signed_in(browser, s.user)
    status, step = _start(browser, "test_record", "1", "rejected")
    assert status == 200
    assert 'name="reason_code"' in step and 'name="reason_text"' in step
    assert "sign-passkey" not in step and "sign-password" not in step  # no ceremony yet
    refused = browser.post(
        "/sign/start",
        {"record_type": "test_record", "record_id": "1", "meaning": "rejected",
         "reason_code": "", "reason_text": ""},
        htmx=True,
    )  # fmt: skip
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="reason_code-error"' in body and 'id="reason_text-error"' in body
    dialog = browser.post(
        "/sign/start",
        {"record_type": "test_record", "record_id": "1", "meaning": "rejected",
         "reason_code": "out_of_specification", "reason_text": "Assay 97 %"},
        htmx=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "Reason (signed with it): <strong>Out of specification — Assay 97 %</strong>" in dialog
    response = browser.post(
        _challenge_url(dialog),
        {"record_type": "test_record", "record_id": "1", "meaning": "rejected",
         "reason_code": "other", "reason_text": "changed in the form afterwards",
         "method": "password", "username": s.user.username, "password": PASSWORD},
        htmx=True,
    )  # fmt: skip
    assert response.status_code == 200
    assert "Assay 97 %" in response.get_data(as_text=True)  # the signed reason, not the form's


def test_password_signing_switched_off_by_the_plant(
    app: Flask,
    connection: object,
    make_signer: Callable[..., Signer],
    sop: DocumentRevision,
    settings: object,
) -> None:
    from app import create_app

    s = make_signer()
    strict = create_app(
        make_settings(settings.database_url, password_signing=False),  # type: ignore[attr-defined]
        clock=CLOCK,
        TESTING=True,
    )
    strict.extensions["db"].bind_to(connection)
    browser = _signed_in(Browser(strict.test_client()), s.user)
    _status, dialog = _start(browser, "sop", sop.id, "read_and_understood")
    assert "Sign with user ID and password" not in dialog
    status, body, _h = _finish(
        browser, dialog, sop, method="password", username=s.user.username, password=PASSWORD
    )
    assert status == 403
    assert "passkeys only" in body


def test_changed_document_shows_its_signature_no_longer_valid(
    browser: Browser, make_signer: Callable[..., Signer], sop: DocumentRevision, session: Session
) -> None:
    s = make_signer(with_passkey=False)
    _signed_in(browser, s.user)
    _status, dialog = _start(browser, "sop", sop.id, "read_and_understood")
    _finish(browser, dialog, sop, method="password", username=s.user.username, password=PASSWORD)
    rewrite_sop_text(session, sop.id, "Changed.")
    page = browser.client.get(f"/documents/{sop.document_id}/revisions/{sop.id}").get_data(
        as_text=True
    )
    assert "No longer valid" in page


def test_enrolment_over_http_and_the_admin_cannot_redeem(
    app: Flask, session: Session, admin: User, make_user: Callable[..., User]
) -> None:
    user = make_user("qa")
    signers.record_identity_check(
        session,
        actor=admin,
        user_id=user.id,
        document_type="passport",
        document_reference="P9",
        clock=at(NOW),
    )  # type: ignore[arg-type]
    admin_browser = Browser(app.test_client())
    admin_browser.login(admin)
    page = admin_browser.post(f"/users/{user.id}/enrolment-link").get_data(as_text=True)
    url = re.search(r'id="enrolment-url">http://localhost([^<]+)<', page).group(1)  # type: ignore[union-attr]
    assert admin_browser.client.get(url).status_code == 403

    browser = Browser(app.test_client())
    browser.login(user)
    assert browser.client.get(url).status_code == 200
    token = csrf_token(browser.client, url)
    headers = {"X-CSRFToken": token}
    start = browser.client.post(f"{url}/options", json={}, headers=headers).json
    authenticator = SoftAuthenticator()
    done = browser.client.post(
        f"{url}/finish",
        json={
            "challenge_id": start["challenge_id"],
            "name": "Work phone",
            "credential": authenticator.register(start["options"]),
        },
        headers=headers,
    )
    assert done.status_code == 200
    assert done.json == {"redirect": "/account"}
    assert [p.name for p in session.exec(select(Passkey).where(Passkey.user_id == user.id))] == [
        "Work phone"
    ]
    again = browser.client.post(f"{url}/options", json={}, headers=headers)
    assert again.status_code == 422
    assert "already used" in again.json["error"]


def test_shared_device_cookie_refuses_a_platform_passkey(
    app: Flask, session: Session, admin: User, make_user: Callable[..., User]
) -> None:
    user = make_user("operator")
    signers.record_identity_check(
        session,
        actor=admin,
        user_id=user.id,
        document_type="badge",
        document_reference="B1",
        clock=at(NOW),
    )  # type: ignore[arg-type]
    client = app.test_client()
    admin_browser = Browser(client)
    admin_browser.login(admin)
    admin_browser.post("/devices/", {"name": "Handheld 7", "shared": "1"})
    assert client.get_cookie("bb_device") is not None
    _link, token = passkeys.issue_enrolment_link(
        session, actor=admin, user_id=user.id, clock=at(NOW)
    )  # type: ignore[arg-type]
    admin_browser.post("/logout")
    Browser(client).login(user)  # same browser (device cookie kept), now the operator
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    start = client.post(f"/enrol/{token}/options", json={}, headers=headers).json
    assert '"authenticatorAttachment": "cross-platform"' in start["options"]
    refused = client.post(
        f"/enrol/{token}/finish",
        json={
            "challenge_id": start["challenge_id"],
            "name": "x",
            "credential": SoftAuthenticator(attachment="platform").register(start["options"]),
        },
        headers=headers,
    )
    assert refused.status_code == 422
    assert "shared floor device" in refused.json["error"]


def test_usernameless_passkey_sign_in_over_http(
    client: FlaskClient, make_signer: Callable[..., Signer]
) -> None:
    s = make_signer()
    headers = {"X-CSRFToken": csrf_token(client)}
    start = client.post("/login/passkey/options", json={}, headers=headers).json
    done = client.post(
        "/login/passkey/finish",
        json={
            "challenge_id": start["challenge_id"],
            "credential": s.authenticator.get_assertion(start["options"]),
            "next": "/account",
        },
        headers=headers,
    )
    assert done.json == {"redirect": "/account"}
    assert s.user.full_name in client.get("/account").get_data(as_text=True)


def test_passkey_sign_in_with_garbage_is_a_clear_json_error(client: FlaskClient) -> None:
    headers = {"X-CSRFToken": csrf_token(client)}
    response = client.post("/login/passkey/finish", json={"challenge_id": "x"}, headers=headers)
    assert response.status_code == 422
    assert response.json["error"] == "The browser sent no passkey. Try again."


__all__ = ["enrol"]


def test_refused_actions_leave_an_audit_event(
    browser: Browser,
    make_user: Callable[..., User],
    make_signer: Callable[..., Signer],
    sop: DocumentRevision,
    session: Session,
) -> None:
    """§11.300(d): a 403 and a refused signing are recorded with who, where and the answer."""
    operator = make_user("operator")
    _signed_in(browser, operator)
    assert browser.client.get("/users/").status_code == 403
    assert _start(browser, "sop", sop.id, "read_and_understood")[0] == 403  # not activated

    signer = make_signer(with_passkey=False)
    other = Browser(browser.client.application.test_client())
    _signed_in(other, signer.user)
    _status, dialog = _start(other, "sop", sop.id, "read_and_understood")
    fields = {"method": "password", "username": signer.user.username, "password": PASSWORD}
    assert _finish(other, dialog, sop, **fields)[0] == 200
    status, body, _h = _finish(other, dialog, sop, **fields)  # the same answer again
    assert status == 422 and "already recorded" in body

    events = session.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "request").order_by(AuditEvent.id)
    ).all()
    seen = [
        (e.action, e.actor_username, json.loads(e.after or "{}")["http_status"]) for e in events
    ]
    assert seen == [
        ("access.refused", operator.username, 403),
        ("access.refused", operator.username, 403),
        ("signing.refused", signer.user.username, 422),
    ]
    assert "not active for you yet" in (events[1].after or "")


def test_an_admin_allows_password_signing_for_a_while_from_the_user_page(
    app: Flask, make_signer: Callable[..., Signer], make_user: Callable[..., User]
) -> None:
    quinn = make_signer(full_name="Quinn Adeyemi")
    admin = Browser(app.test_client())
    _signed_in(admin, make_user("admin", username="second-admin"))
    page = admin.client.get(f"/users/{quinn.user.id}").get_data(as_text=True)
    assert "Allow password signing" in page
    refused = admin.post(f"/users/{quinn.user.id}/password-signing", {"hours": "0", "reason": ""})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "from 1 to 72" in body and 'id="hours-error"' in body
    done = admin.post(
        f"/users/{quinn.user.id}/password-signing", {"hours": "8", "reason": "Phone lost"}
    )
    assert done.status_code == 302
    shown = admin.client.get(done.headers["Location"]).get_data(as_text=True)
    assert "may sign with user ID and password until" in shown
