"""The request is the unit of work: committed once, before any answer says it was saved."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from app.services.accounts.auth import find_user
from tests.routes.conftest import Browser

NEW_USER = {
    "username": "newop",
    "full_name": "New Operator",
    "roles": "operator",
    "password": "a-long-enough-password",
}


def test_a_failed_commit_shows_no_success_and_saves_nothing(
    signed_in: Callable[..., Browser], session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = signed_in("admin")

    def disk_full(self: OrmSession) -> None:
        raise OperationalError("COMMIT", {}, Exception("could not write: disk full"))

    with monkeypatch.context() as m:
        m.setattr(OrmSession, "commit", disk_full)
        response = admin.post("/users/", NEW_USER)
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "nothing was saved" in page
    assert "created" not in page
    # The success message was withdrawn, not kept for the next page either.
    assert "User newop created" not in admin.client.get("/users/").get_data(as_text=True)
    assert find_user(session, "newop") is None


def test_a_committed_create_says_so_once(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    admin = signed_in("admin")
    response = admin.post("/users/", NEW_USER)
    assert response.status_code == 302
    assert find_user(session, "newop") is not None
    page = admin.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "User newop created." in page
    assert "User newop created." not in admin.client.get("/users/").get_data(as_text=True)


def test_a_refused_form_rolls_back_and_answers_422_in_place(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    admin = signed_in("admin")
    response = admin.post("/users/", {**NEW_USER, "password": "short"}, htmx=True)
    assert response.status_code == 422
    assert 'name="username"' in response.get_data(as_text=True)
    assert find_user(session, "newop") is None
