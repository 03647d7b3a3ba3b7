"""Sign-in pages: redirects, messages, lockout, open-redirect refusal, idle timeout."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session
from werkzeug.routing import IntegerConverter, Rule

from app.models import User
from app.services.core.clock import StoppedClock
from tests.conftest import PASSWORD, audit_actions
from tests.routes.conftest import Browser, csrf_token

# What a person who is not signed in may reach: signing in (password or passkey), the shell a
# browser loads by itself, and the load balancer's health check. Everything else is behind sign-in.
PUBLIC = {
    "auth.login",
    "auth.login_post",
    "auth.passkey_options",
    "auth.passkey_finish",
    "assets.file",
    "health.healthz",
    "pwa.manifest",
    "pwa.service_worker",
    "pwa.offline",
}


def _example_url(rule: Rule) -> str:
    values = {
        name: 1 if isinstance(conv, IntegerConverter) else "X"
        for name, conv in rule._converters.items()
    }
    return rule.build(values)[1]  # type: ignore[index]


def test_pages_need_a_signed_in_user(app: Flask, client: FlaskClient) -> None:
    token = csrf_token(client)
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC | {"static"}]
    assert len(rules) > 60
    for rule in rules:
        path = _example_url(rule)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, data={"csrf_token": token})
            assert response.status_code == 302, f"{method} {path} ({rule.endpoint})"
            assert response.headers["Location"].startswith("/login"), f"{method} {path}"


def test_htmx_request_without_session_is_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/users/", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/login")


def test_sign_in_lands_on_home_with_name_and_roles(
    browser: Browser, make_user: Callable[..., User]
) -> None:
    user = make_user("qa", "supervisor", full_name="Quinn Adeyemi")
    response = browser.login(user)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = browser.client.get("/").get_data(as_text=True)
    assert "Quinn Adeyemi" in page
    assert "QA · Supervisor" in page
    assert 'id="panel-qa"' in page and 'id="panel-supervisor"' in page
    assert 'id="panel-admin"' not in page


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(
    browser: Browser, make_user: Callable[..., User]
) -> None:
    user = make_user("admin")
    token = csrf_token(browser.client)
    ok = browser.client.post(
        "/login",
        data={
            "username": user.username,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/audit/?user=x",
        },
    )
    assert ok.headers["Location"] == "/audit/?user=x"
    assert browser.post("/logout").status_code == 302
    token = csrf_token(browser.client)
    evil = browser.client.post(
        "/login",
        data={
            "username": user.username,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
    )
    assert evil.headers["Location"] == "/"


def test_wrong_password_says_so_with_401(browser: Browser, make_user: Callable[..., User]) -> None:
    user = make_user("operator")
    response = browser.login(user, password="wrong")
    assert response.status_code == 401
    assert "Username or password is not correct." in response.get_data(as_text=True)


def test_lockout_is_shown_and_kept_although_the_answer_is_an_error(
    browser: Browser, make_user: Callable[..., User], session: Session
) -> None:
    user = make_user("operator")
    for _ in range(5):
        response = browser.login(user, password="wrong")
    assert "locked after 5 failed attempts" in response.get_data(as_text=True)
    assert browser.login(user).status_code == 401  # right password, still locked
    assert "account.locked" in audit_actions(session, entity_id=str(user.id))


def test_the_lock_answer_does_not_tell_whether_the_username_exists(
    browser: Browser, make_user: Callable[..., User], session: Session
) -> None:
    user = make_user("operator")
    answers = {}
    for name in (user.username, "no-such-person"):
        replies = [browser.login(name, password="wrong") for _ in range(6)]
        answers[name] = [(r.status_code, _error(r.get_data(as_text=True))) for r in replies]
    real, unknown = answers[user.username], answers["no-such-person"]
    assert real == unknown
    assert [status for status, _ in unknown] == [401] * 6
    assert unknown[3][1] == "Username or password is not correct."
    assert unknown[4][1] == unknown[5][1]
    assert unknown[5][1].startswith("Sign-in with this username is locked after 5 failed attempts.")
    assert "account.locked" in audit_actions(session, entity_id=str(user.id))


def _error(page: str) -> str:
    """The sign-in page's refusal sentence."""
    start = page.index('id="login-error">') + len('id="login-error">')
    return page[start : page.index("</div>", start)]


def test_logout_ends_the_session_and_is_audited(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    browser = signed_in("operator")
    response = browser.post("/logout")
    assert response.headers["Location"] == "/login"
    assert browser.client.get("/").status_code == 302
    assert audit_actions(session, entity_id=str(browser.user.id))[-1] == "logout"  # type: ignore[attr-defined]


def test_idle_session_is_ended_and_sent_to_login(
    signed_in: Callable[..., Browser], session: Session, clock: StoppedClock
) -> None:
    browser = signed_in("operator")
    assert browser.client.get("/").status_code == 200
    clock.advance(timedelta(minutes=15, seconds=1))  # default timeout is 15 min
    response = browser.client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?expired=1"
    page = browser.client.get("/login?expired=1").get_data(as_text=True)
    assert "signed out after 15 min without activity" in page
    assert browser.client.get("/").status_code == 302
    assert audit_actions(session, entity_id=str(browser.user.id))[-1] == "session.expired"  # type: ignore[attr-defined]


def test_activity_keeps_the_session_alive(
    signed_in: Callable[..., Browser], clock: StoppedClock
) -> None:
    browser = signed_in("operator")
    for _ in range(3):  # 42 minutes after sign-in, never 15 idle: still signed in
        clock.advance(timedelta(minutes=14))
        assert browser.client.get("/").status_code == 200
    clock.advance(timedelta(minutes=15, seconds=1))
    assert browser.client.get("/").status_code == 302
