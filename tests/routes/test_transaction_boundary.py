"""The request is the unit of work: committed once, before any answer says it was saved."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from app.config import Settings
from app.services.accounts.auth import find_user
from app.services.core.checkpoints import LOG_FILE
from app.services.core.clock import StoppedClock
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


@pytest.mark.parametrize(
    "driver_error",
    [
        psycopg.errors.UniqueViolation("duplicate key value violates unique constraint"),
        sqlite3.IntegrityError("UNIQUE constraint failed: lot.lot_code"),
    ],
    ids=["postgresql", "sqlite"],
)
def test_a_unique_collision_at_commit_is_a_409_sentence_not_a_server_error(
    signed_in: Callable[..., Browser],
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    driver_error: Exception,
) -> None:
    """The same thing sent twice at once where no one-time key catches it: the later copy
    learns it was already recorded (and nothing of it is saved)."""
    admin = signed_in("admin")

    def collided(self: OrmSession) -> None:
        raise IntegrityError("INSERT", {}, driver_error)

    with monkeypatch.context() as m:
        m.setattr(OrmSession, "commit", collided)
        response = admin.post("/users/", NEW_USER, htmx=True)
    assert response.status_code == 409
    assert "already recorded by another request" in response.get_data(as_text=True)
    assert find_user(session, "newop") is None


def test_another_integrity_error_is_still_a_server_error(
    signed_in: Callable[..., Browser], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = signed_in("admin")

    def broken(self: OrmSession) -> None:
        raise IntegrityError("INSERT", {}, psycopg.errors.ForeignKeyViolation("no such row"))

    with monkeypatch.context() as m:
        m.setattr(OrmSession, "commit", broken)
        response = admin.post("/users/", NEW_USER)
    assert response.status_code == 500


def test_the_app_signs_a_checkpoint_of_the_audit_chain_regularly_after_commits(
    signed_in: Callable[..., Browser], settings: Settings, clock: StoppedClock
) -> None:
    log = settings.audit_checkpoint_dir / LOG_FILE
    admin = signed_in("admin")  # the sign-in committed: the first checkpoint of this server
    assert len(log.read_text().splitlines()) == 1
    assert admin.post("/users/", NEW_USER).status_code == 302
    assert len(log.read_text().splitlines()) == 1  # not due yet
    clock.advance(timedelta(minutes=settings.audit_checkpoint_minutes))
    assert admin.post("/users/", {**NEW_USER, "username": "newop2"}).status_code == 302
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == 2 and lines[1]["events"] > lines[0]["events"]
