"""Browser fixtures: the real app on a live server over a migrated, demo-seeded database, driven by
Debian's Chromium through Playwright at a handheld (360x740) and a tablet viewport.

Pages are opened at http://localhost:PORT (not 127.0.0.1): WebAuthn refuses an IP address for
the relying party `localhost`. Chromium is required when REQUIRE_BROWSER=1 (CI); elsewhere a
machine without it skips these tests.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app, migrate
from app.db import Database
from app.services.core.actors import SystemActor
from app.services.demo import DEMO_PASSWORD, seed_demo
from tests.clock import CLOCK, NOW, running_from
from tests.conftest import make_settings
from tests.db import sqlite_url

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HANDHELD = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
TABLET = {"viewport": {"width": 800, "height": 1280}, "is_mobile": True, "has_touch": True}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@dataclass
class LiveServer:
    """The app served by werkzeug in a thread, as a browser on this machine would reach it."""

    url: str
    database: Database
    server: BaseWSGIServer

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_server(database_url: str, **overrides: Any) -> LiveServer:
    server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
    url = f"http://localhost:{server.server_port}"
    settings = make_settings(database_url, webauthn_origins=(url,), **overrides)
    app = create_app(settings, clock=running_from(NOW))
    server.app = app  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, name=f"live-{url}", daemon=True).start()
    return LiveServer(url, app.extensions["db"], server)


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database with the demo people and documents (fresh per test module)."""
    url = sqlite_url(tmp_path_factory.mktemp("browser") / "demo.sqlite3")
    migrate.upgrade(url)
    db = Database(url)
    with db.session_scope() as session:
        seed_demo(session, actor=SystemActor("cli:browser-tests"), clock=CLOCK)
    db.engine.dispose()
    return url


@pytest.fixture(scope="module")
def live_server(demo_database: str) -> Iterator[LiveServer]:
    server = start_server(demo_database)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {message}")
        pytest.skip(message)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def new_context(
    chromium: Browser, request: pytest.FixtureRequest
) -> Iterator[Callable[..., BrowserContext]]:
    """Make browser contexts (each its own cookies: one person's device); closed after the test,
    with a screenshot of every open page kept in test-artifacts/ to look at."""
    contexts: list[BrowserContext] = []

    def make(base_url: str, device: dict[str, Any] = HANDHELD) -> BrowserContext:
        context = chromium.new_context(base_url=base_url, **device)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    for i, context in enumerate(contexts):
        for j, page in enumerate(context.pages):
            page.screenshot(path=ARTIFACTS / f"{name}-{i}{j}.png", full_page=True)
        context.close()


@pytest.fixture
def handheld(new_context: Callable[..., BrowserContext], live_server: LiveServer) -> Page:
    return new_context(live_server.url, HANDHELD).new_page()


@pytest.fixture
def tablet(new_context: Callable[..., BrowserContext], live_server: LiveServer) -> Page:
    return new_context(live_server.url, TABLET).new_page()


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form, as a person would, and land on the home page."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#who")).to_be_visible()


def sign_out(page: Page) -> None:
    page.locator("form.signout button").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
