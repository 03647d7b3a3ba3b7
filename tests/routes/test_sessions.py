"""Sessions live on the server (issue 9 point 2): the cookie carries only a token; sign-out,
the inactivity timeout, a lockout, deactivation and an admin end the session everywhere, and a
saved cookie replayed afterwards is worthless. Secure cookies and HSTS in production."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection
from sqlmodel import Session, select

from app import create_app
from app.config import Settings
from app.models import User, WebSession
from app.services.core.clock import StoppedClock
from tests.conftest import audit_actions
from tests.routes.conftest import Browser, csrf_token


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def _replay(app: Flask, token: str) -> FlaskClient:
    """A second browser holding a copy of the saved cookie (an attacker, or a restored tab)."""
    other = app.test_client()
    other.set_cookie("session", token)
    return other


def _open_rows(session: Session, user: User) -> list[WebSession]:
    session.expire_all()
    return list(
        session.exec(
            select(WebSession).where(WebSession.user_id == user.id, WebSession.ended_at == None)  # noqa: E711
        )
    )


def test_the_cookie_carries_only_a_random_token_and_the_session_is_on_the_server(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    browser = signed_in("operator")
    token = _cookie(browser.client)
    # Not a signed blob of the session's values: an opaque token, nothing of the user in it.
    assert "." not in token and len(token) >= 40
    assert browser.user.username not in token  # type: ignore[attr-defined]
    rows = _open_rows(session, browser.user)  # type: ignore[attr-defined]
    assert len(rows) == 1
    assert token not in rows[0].token_hash  # only its hash is kept
    assert '"_user_id"' in rows[0].data


def test_a_saved_cookie_replayed_after_sign_out_gets_nothing(
    app: Flask, signed_in: Callable[..., Browser], session: Session
) -> None:
    browser = signed_in("qa")
    saved = _cookie(browser.client)
    assert _replay(app, saved).get("/account").status_code == 200  # the copy works... until
    assert browser.post("/logout").status_code == 302

    thief = _replay(app, saved)
    assert thief.get("/account").status_code == 302
    response = thief.post(
        "/sign/start",
        data={"record_type": "lot", "record_id": "1", "meaning": "released"},
        headers={"X-CSRFToken": "whatever-was-on-the-page"},
    )
    assert response.status_code in (302, 400)  # signed out (or its old form token is void)
    assert _open_rows(session, browser.user) == []  # type: ignore[attr-defined]
    ended = session.exec(select(WebSession).where(WebSession.user_id == browser.user.id)).one()  # type: ignore[attr-defined]
    assert ended.end_reason == "signed out"


def test_sign_in_starts_a_new_session_id(
    app: Flask, browser: Browser, make_user: Callable[..., User]
) -> None:
    """Session fixation: a token planted before sign-in is not the signed-in session's."""
    user = make_user("operator")
    csrf_token(browser.client)
    before = _cookie(browser.client)
    assert browser.login(user).status_code == 302
    assert _cookie(browser.client) != before
    assert _replay(app, before).get("/account").status_code == 302


def test_the_idle_timeout_ends_the_session_on_the_server(
    app: Flask, signed_in: Callable[..., Browser], session: Session, clock: StoppedClock
) -> None:
    browser = signed_in("operator")
    saved = _cookie(browser.client)
    clock.advance(timedelta(minutes=15, seconds=1))
    assert browser.client.get("/").status_code == 302
    assert _replay(app, saved).get("/account").status_code == 302
    ended = session.exec(select(WebSession).where(WebSession.user_id == browser.user.id)).one()  # type: ignore[attr-defined]
    assert ended.end_reason == "idle timeout"


def test_activity_on_one_app_server_counts_on_another(
    app: Flask,
    settings: Settings,
    connection: Connection,
    clock: StoppedClock,
    signed_in: Callable[..., Browser],
) -> None:
    """Two app servers behind one load balancer share the sessions: sign-in and activity on one
    keep the user signed in on the other; sign-out on one ends it on both."""
    second = create_app(settings, clock=clock, TESTING=True)
    second.extensions["db"].bind_to(connection)
    browser = signed_in("operator")
    token = _cookie(browser.client)
    other = _replay(second, token)
    for _ in range(3):  # alternate servers, 10 min apart: 30 min, never 15 idle on the shared clock
        clock.advance(timedelta(minutes=10))
        assert browser.client.get("/account").status_code == 200
        clock.advance(timedelta(minutes=10))
        assert other.get("/account").status_code == 200
    other_browser = Browser(other)
    assert other_browser.post("/logout").status_code == 302
    assert browser.client.get("/account").status_code == 302


def test_a_lockout_signs_out_every_session_of_that_account(
    app: Flask, signed_in: Callable[..., Browser], session: Session
) -> None:
    owner = signed_in("operator")
    guesser = Browser(app.test_client())
    for _ in range(5):
        guesser.login(owner.user, password="guess")  # type: ignore[attr-defined]
    assert owner.client.get("/account").status_code == 302
    assert "account.locked" in audit_actions(session, entity_id=str(owner.user.id))  # type: ignore[attr-defined]


def test_deactivation_signs_the_person_out_everywhere(
    app: Flask, make_user: Callable[..., User], session: Session
) -> None:
    person = Browser(app.test_client())
    leaver = make_user("warehouse")
    assert person.login(leaver).status_code == 302
    admin = Browser(app.test_client())
    assert admin.login(make_user("admin")).status_code == 302
    answer = admin.post(f"/users/{leaver.id}/deactivate", {"reason": "Left the company"})
    assert answer.status_code == 302
    assert person.client.get("/account").status_code == 302
    assert _open_rows(session, leaver) == []


def test_an_admin_ends_a_persons_sessions_and_it_is_audited(
    app: Flask, make_user: Callable[..., User], session: Session
) -> None:
    handheld, tablet = Browser(app.test_client()), Browser(app.test_client())
    walt = make_user("warehouse")
    assert handheld.login(walt).status_code == 302
    assert tablet.login(walt).status_code == 302
    admin = Browser(app.test_client())
    assert admin.login(make_user("admin")).status_code == 302
    page = admin.client.get(f"/users/{walt.id}").get_data(as_text=True)
    assert "End all sessions (2)" in page

    answer = admin.post(f"/users/{walt.id}/sessions/end")
    assert answer.status_code == 302
    assert "2 session(s) ended" in admin.client.get(answer.headers["Location"]).get_data(
        as_text=True
    )
    assert handheld.client.get("/account").status_code == 302
    assert tablet.client.get("/account").status_code == 302
    assert "user.sessions_ended" in audit_actions(session, entity_id=str(walt.id))


def test_only_an_admin_ends_sessions(
    signed_in: Callable[..., Browser], make_user: Callable[..., User]
) -> None:
    victim = make_user("qa")
    supervisor = signed_in("supervisor")
    assert supervisor.post(f"/users/{victim.id}/sessions/end").status_code == 403


def test_production_cookies_are_secure_and_hsts_is_sent_even_without_a_proxy_header(
    settings: Settings, connection: Connection, clock: StoppedClock, make_user: Callable[..., User]
) -> None:
    production = create_app(
        dataclasses.replace(settings, env="production"), clock=clock, TESTING=True
    )
    production.extensions["db"].bind_to(connection)
    client = production.test_client()
    response = client.get("/login")  # plain http, as behind a TLS terminator that adds nothing
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_development_over_http_sends_no_hsts(client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers
