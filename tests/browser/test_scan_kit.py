"""The floor scan kit (DESIGN §9, js/scan.js) on a 360x740 handheld receiving a delivery: a
keyboard-wedge scanner types 50 labels back to back into "Scan the supplier's label" while every
answer from the server comes 200-400 ms late, and each scan reaches the server exactly once, in
the order scanned, under its own id; a scan whose answer is lost on the way back is sent again
with the same id (a recording endpoint records it once: see the one-time key tests of picking,
tests/routes/test_shipments_routes.py). Shipping picks by the scanner Enter rules instead (lot,
then quantity; js/fields.js), so the kit is exercised where it is used."""

from __future__ import annotations

import io
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.browser.conftest import HANDHELD, LiveServer, sign_in, start_server

GS = "\x1d"
LOT = "MCC-2610-01"  # a supplier's lot number, as on the supplier's label
SCANS = 50
SCAN_PATH = "/lots/receive/scan"


def label(serial: int) -> str:
    """A GS1-128 lot label as the scanner types it: lot (10), GS, serial (21)."""
    return f"]C110{LOT}{GS}21S{serial:04d}"


class SlowScans:
    """WSGI middleware: the answer to a scan comes 200-400 ms after the server made it (a busy
    server, a slow network), so the next scans arrive while one is still in flight. It keeps
    what the server was sent, (scan, key) in order of arrival: the server's own view."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.random = random.Random(29)
        self.lock = threading.Lock()
        self.heard: list[tuple[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        scanning = environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == SCAN_PATH
        if scanning:
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            form = parse_qs(body.decode())
            with self.lock:
                self.heard.append((form["scan"][0], form["key"][0]))
        answer = self.app(environ, start_response)
        if scanning:
            with self.lock:
                delay = self.random.uniform(0.2, 0.4)
            time.sleep(delay)
        return answer


@pytest.fixture(scope="module")
def slow_server(demo_database: str) -> Iterator[LiveServer]:
    server = start_server(demo_database)
    server.server.app = SlowScans(server.server.app)  # type: ignore[attr-defined]
    yield server
    server.stop()


def open_receiving(page: Page, server: LiveServer) -> SlowScans:
    """Open "Receive a delivery" (the scan field has the focus); returns what the server hears."""
    sign_in(page, "walt")
    page.goto("/lots/receive")
    expect(page.get_by_label("Scan the supplier's label")).to_be_focused()
    # Every scan the kit takes and every answer, in the order they happened.
    page.evaluate(
        """() => {
          window.received = []; window.answered = [];
          document.addEventListener('scan:received', (e) => window.received.push(
            {...e.detail, unanswered: window.received.length - window.answered.length}));
          document.addEventListener('scan:answered', (e) => window.answered.push(e.detail));
        }"""
    )
    heard: SlowScans = server.server.app  # type: ignore[attr-defined]
    with heard.lock:
        heard.heard.clear()
    return heard


def test_fifty_wedge_scans_while_answers_lag_each_reach_the_server_once_in_order(
    new_context: Callable[..., BrowserContext], slow_server: LiveServer
) -> None:
    walt = new_context(slow_server.url, HANDHELD).new_page()
    server = open_receiving(walt, slow_server)
    labels = [label(n) for n in range(1, SCANS + 1)]

    for n, text in enumerate(labels):
        lot_part, serial_part = text.split(GS)
        walt.keyboard.type(lot_part, delay=2)
        if n % 2:
            walt.keyboard.press("Control+BracketRight")  # some scanners send GS as Ctrl-]
        else:
            walt.keyboard.type(GS)
        walt.keyboard.type(serial_part, delay=2)
        walt.keyboard.press("Enter")  # the next label follows at once, answered or not

    # Each Enter was taken at once, with its own id, even with earlier scans still unanswered.
    received = walt.evaluate("window.received")
    assert [r["value"] for r in received] == labels
    assert max(r["unanswered"] for r in received) > 1
    walt.wait_for_function("(n) => window.answered.length >= n", arg=SCANS, timeout=60_000)
    answered = walt.evaluate("window.answered")
    assert [a["value"] for a in answered] == labels
    assert [a["id"] for a in answered] == [r["id"] for r in received]
    assert len({a["id"] for a in answered}) == SCANS
    assert {(a["status"], a["state"]) for a in answered} == {(200, "done")}

    # The server heard each scan once, in the order scanned, each under the scan's own id.
    assert server.heard == [(a["value"], a["id"]) for a in answered]

    # The result region shows the last answer; the log the latest scans, newest first; the
    # scanner's next keystrokes still land in the scan field.
    expect(walt.locator("#scan-read")).to_have_text(f"Read: ]C110{LOT}\u241d21S0050")
    rows = walt.locator("#scan-log .scan-row")
    expect(rows).to_have_count(10)
    expect(rows.first).to_have_attribute("data-state", "done")
    expect(rows.first.locator(".scan-value")).to_have_text(f"]C110{LOT}\u241d21S0050")
    expect(rows.last.locator(".scan-value")).to_have_text(f"]C110{LOT}\u241d21S0041")
    expect(walt.locator("#scan")).to_be_focused()
    expect(walt.locator("#scan")).to_have_value("")


def test_a_scan_whose_answer_is_lost_is_sent_again_with_its_own_id(
    new_context: Callable[..., BrowserContext], slow_server: LiveServer
) -> None:
    walt = new_context(slow_server.url, HANDHELD).new_page()
    server = open_receiving(walt, slow_server)
    lost: list[str] = []

    def lose_first_answer(route: Route) -> None:
        if lost:
            route.continue_()
            return
        route.fetch()  # the server answers it...
        lost.append(route.request.post_data or "")
        route.abort("connectionreset")  # ...and the answer never reaches the handheld

    walt.route(f"**{SCAN_PATH}", lose_first_answer)
    walt.keyboard.type(label(1), delay=2)
    walt.keyboard.press("Enter")
    walt.keyboard.type(label(2), delay=2)
    walt.keyboard.press("Enter")

    walt.wait_for_function("() => window.answered.length >= 2", timeout=30_000)
    answered = walt.evaluate("window.answered")
    assert [a["value"] for a in answered] == [label(1), label(2)]
    assert [a["state"] for a in answered] == ["done", "done"]
    # The first scan went twice under its one id (the server answered, the answer was lost),
    # and only then the second, under its own.
    first, second = answered[0]["id"], answered[1]["id"]
    assert server.heard == [(label(1), first), (label(1), first), (label(2), second)]
    expect(walt.locator("#network-banner")).to_be_hidden()
    expect(walt.locator("#scan-read")).to_have_text(f"Read: ]C110{LOT}\u241d21S0002")
