"""User administration over HTTP: create with in-place field errors, change with a reason."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, select

from app.models import User
from tests.conftest import audit_actions, count
from tests.routes.conftest import Browser

GOOD = {
    "username": "newop",
    "full_name": "New Operator",
    "roles": "operator",
    "password": "long-enough-pw",
}


def test_admin_creates_a_user_and_sees_it(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    browser = signed_in("admin")
    response = browser.post("/users/", GOOD)
    assert response.status_code == 302
    user = session.exec(select(User).where(User.username == "newop")).one()
    assert response.headers["Location"] == f"/users/{user.id}"
    assert "New Operator" in browser.client.get("/users/").get_data(as_text=True)


def test_htmx_create_with_bad_input_returns_the_form_with_messages_beside_fields(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    browser = signed_in("admin")
    before = count(session, User)
    response = browser.post(
        "/users/", {**GOOD, "username": "Bad Name!", "password": "short"}, htmx=True
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("{#") or body.lstrip().startswith("<form")
    assert 'id="user-new-form"' in body
    assert 'id="username-error"' in body and "lower-case letters" in body
    assert 'id="password-error"' in body and "at least 12 characters" in body
    assert 'value="New Operator"' in body  # what was typed is kept
    assert count(session, User) == before


def test_htmx_create_success_redirects_the_whole_page(signed_in: Callable[..., Browser]) -> None:
    response = signed_in("admin").post("/users/", GOOD, htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/users/")


def test_deactivate_needs_a_reason_and_is_audited(
    signed_in: Callable[..., Browser], make_user: Callable[..., User], session: Session
) -> None:
    browser = signed_in("admin")
    target = make_user("operator")
    refused = browser.post(f"/users/{target.id}/deactivate", {"reason": ""}, htmx=True)
    assert refused.status_code == 422
    assert "Give a reason" in refused.get_data(as_text=True)
    assert browser.post(f"/users/{target.id}/deactivate", {"reason": "left"}).status_code == 302
    session.expire_all()
    assert session.get(User, target.id).active is False  # type: ignore[union-attr]
    assert audit_actions(session, entity_id=str(target.id))[-1] == "user.deactivated"
    assert "Deactivated" in browser.client.get("/users/").get_data(as_text=True)


def test_roles_change_over_http(
    signed_in: Callable[..., Browser], make_user: Callable[..., User], session: Session
) -> None:
    browser = signed_in("admin")
    target = make_user("operator")
    data = {"roles": ["operator", "qa"], "reason": "trained"}
    assert browser.post(f"/users/{target.id}/roles", data).status_code == 302
    session.expire_all()
    assert session.get(User, target.id).roles == "operator,qa"  # type: ignore[union-attr]


def test_unknown_user_is_404(signed_in: Callable[..., Browser]) -> None:
    assert signed_in("admin").client.get("/users/99999").status_code == 404
