"""CSRF on every POST (htmx included), security headers, cookies, role refusals over HTTP."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session

from app.models import User
from tests.conftest import PASSWORD, count
from tests.routes.conftest import Browser


def test_post_without_csrf_token_is_refused_with_a_clear_message(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    browser = signed_in("admin")
    users_before = count(session, User)
    form = {"username": "sneaky", "full_name": "S", "roles": "qa", "password": "long-enough-pw"}
    response = browser.client.post("/users/", data=form)
    assert response.status_code == 400
    assert "security token is missing or expired" in response.get_data(as_text=True)
    assert count(session, User) == users_before


def test_htmx_post_without_csrf_header_gets_the_message_partial(
    signed_in: Callable[..., Browser],
) -> None:
    browser = signed_in("admin")
    response = browser.client.post("/logout", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#messages"
    body = response.get_data(as_text=True)
    assert "<html" not in body
    assert "security token" in body
    assert browser.client.get("/").status_code == 200  # still signed in: the logout was refused


def test_htmx_post_with_csrf_header_is_accepted(signed_in: Callable[..., Browser]) -> None:
    browser = signed_in("operator")
    response = browser.post("/logout", htmx=True)
    assert response.status_code == 302


def test_login_post_needs_a_token_too(client: FlaskClient, make_user: Callable[..., User]) -> None:
    user = make_user("operator")
    response = client.post("/login", data={"username": user.username, "password": "x"})
    assert response.status_code == 400


def test_security_headers_on_every_page(client: FlaskClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script>" not in response.get_data(as_text=True)  # no inline script anywhere


def _session_cookie(response_headers: list[str]) -> str:
    cookies = [h for h in response_headers if h.startswith("session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def test_session_cookie_is_httponly_and_lax_and_secure_only_over_https(
    app: object, make_user: Callable[..., User]
) -> None:
    user = make_user("operator")
    for base, secure in (("http://localhost", False), ("https://localhost", True)):
        client = app.test_client()  # type: ignore[attr-defined]
        page = client.get("/login", base_url=base).get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post(
            "/login",
            base_url=base,
            data={"username": user.username, "password": PASSWORD, "csrf_token": token},
            headers={"Referer": f"{base}/login"},  # CSRF over HTTPS checks the referrer
        )
        assert response.status_code == 302
        cookie = _session_cookie(response.headers.getlist("Set-Cookie"))
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure


def test_operator_gets_403_on_admin_actions(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    browser = signed_in("operator")
    for path in ("/users/", "/users/new", "/audit/"):
        response = browser.client.get(path)
        assert response.status_code == 403, path
        assert "Only" in response.get_data(as_text=True)
    users_before = count(session, User)
    form = {"username": "x2", "full_name": "X", "roles": "admin", "password": "long-enough-pw"}
    assert browser.post("/users/", form).status_code == 403
    assert browser.post("/users/", form, htmx=True).status_code == 403
    assert count(session, User) == users_before


def test_unknown_page_is_a_404_page_not_a_trace(signed_in: Callable[..., Browser]) -> None:
    response = signed_in("operator").client.get("/no/such/page")
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


def test_unexpected_error_is_a_500_message_without_trace(
    app: object, signed_in: Callable[..., Browser], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services.accounts import home

    browser = signed_in("operator")

    def boom(_user: User) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(home, "panels_for", boom)
    response = browser.client.get("/")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "nothing was saved" in body
    assert "secret internals" not in body and "Traceback" not in body


def test_each_request_logs_one_structured_line(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="batchbook.request"):
        client.get("/login")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "batchbook.request"]
    assert len(lines) == 1
    line = lines[0]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/login", 200)
    assert isinstance(line["duration_ms"], float)
    assert line["request_id"]
