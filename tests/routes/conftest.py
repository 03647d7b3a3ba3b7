"""Route fixtures: a test client with CSRF left ON, and a helper that signs in like a browser."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.models import User
from tests.conftest import PASSWORD

TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    match = TOKEN_RE.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class Browser:
    """Signs in and posts forms the way the pages do (token in the form or the htmx header)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, user: User | str, password: str = PASSWORD) -> TestResponse:
        username = user if isinstance(user, str) else user.username
        token = csrf_token(self.client)
        answer = self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )
        if answer.status_code == 302:
            self.client.get("/")  # the new session's form token, as the first page makes it
        return answer

    def post(
        self,
        path: str,
        data: dict[str, object] | None = None,
        *,
        htmx: bool = False,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        token = csrf_token(self.client, "/")
        if htmx:
            sent = {"HX-Request": "true", "X-CSRFToken": token, **(headers or {})}
            return self.client.post(path, data=data or {}, headers=sent)
        return self.client.post(path, data={**(data or {}), "csrf_token": token})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def browser(client: FlaskClient) -> Browser:
    return Browser(client)


@pytest.fixture
def signed_in(browser: Browser, make_user: Callable[..., User]) -> Callable[..., Browser]:
    def sign_in(*roles: str) -> Browser:
        user = make_user(*roles)
        assert browser.login(user).status_code == 302
        browser.user = user  # type: ignore[attr-defined]
        return browser

    return sign_in
