"""The floor scan kit (DESIGN §9, js/scan.js) on a 360x740 handheld picking a shipment: a
keyboard-wedge scanner types 50 lot labels back to back while every answer from the server comes
200-400 ms late, and each scan is picked exactly once, in the order scanned; a scan whose answer
is lost on the way back is sent again with its own id and still picked once."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect
from sqlmodel import col, select

from app.models import Submission
from app.services.warehouse import shipping
from tests.browser.conftest import HANDHELD, LiveServer, sign_in, start_server

GS = "\x1d"
LOT = "MCC-2610-01"  # demo opening stock: released, 60 kg, expires 2029
SCANS = 50


def label(serial: int) -> str:
    """A GS1-128 lot label as the scanner types it: lot (10), GS, serial (21)."""
    return f"]C110{LOT}{GS}21S{serial:04d}"


class SlowScans:
    """WSGI middleware: the answer to a pick comes 200-400 ms after the server made it (a busy
    server, a slow network), so the next scans arrive while one is still in flight."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.random = random.Random(29)
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        answer = self.app(environ, start_response)
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/lines"):
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


def open_shipment(page: Page, reference: str) -> str:
    """Start a shipment to Greenleaf, pick 1 at a time; the scan field has the focus."""
    sign_in(page, "walt")
    page.goto("/shipments/")
    page.locator("select[name=customer]").select_option("CUST-GREENLEAF")
    page.get_by_label("Customer's order (PO)").fill(reference)
    page.get_by_role("button", name="Start a shipment").click()
    expect(page.locator("#shipment-status")).to_have_text("Picking")
    page.get_by_label("Quantity").fill("1")
    page.get_by_label("Scan the lot label").focus()
    # Every scan the kit takes and every answer, in the order they happened.
    page.evaluate(
        """() => {
          window.received = []; window.answered = [];
          document.addEventListener('scan:received', (e) => window.received.push(
            {...e.detail, unanswered: window.received.length - window.answered.length}));
          document.addEventListener('scan:answered', (e) => window.answered.push(e.detail));
        }"""
    )
    return page.locator("h1").inner_text().split()[0]


def picked(server: LiveServer, shipment_no: str) -> list[str]:
    """What the server holds: the scanned text of each line on the shipment, in pick order."""
    with server.database.session_scope() as s:
        shipment = shipping.get_shipment(s, shipment_no)
        return [line.scanned for line, _, _ in shipping.lines(s, shipment)]


def test_fifty_wedge_scans_while_answers_lag_are_each_picked_once_in_order(
    new_context: Callable[..., BrowserContext], slow_server: LiveServer
) -> None:
    walt = new_context(slow_server.url, HANDHELD).new_page()
    shipment_no = open_shipment(walt, "PO-SCAN-50")
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

    # The server picked each scan once, in the order scanned, each under the scan's own id.
    assert picked(slow_server, shipment_no) == labels
    ids = [a["id"] for a in answered]
    with slow_server.database.session_scope() as s:
        kept = s.exec(select(Submission.key).where(col(Submission.key).in_(ids))).all()
    assert sorted(kept) == sorted(ids)

    # The result region shows the last answer and every line; the log the latest scans, newest
    # first; the scanner's next keystrokes still land in the scan field.
    expect(walt.locator("#pick-answer")).to_have_text(f"Picked 1 kg of lot {LOT}.")
    expect(walt.locator("#shipment-lines .pick-row")).to_have_count(SCANS)
    rows = walt.locator("#scan-log .scan-row")
    expect(rows).to_have_count(10)
    expect(rows.first).to_have_attribute("data-state", "done")
    expect(rows.first.locator(".scan-value")).to_have_text(f"]C110{LOT}\u241d21S0050")
    expect(rows.last.locator(".scan-value")).to_have_text(f"]C110{LOT}\u241d21S0041")
    expect(walt.locator("#scan")).to_be_focused()
    expect(walt.locator("#scan")).to_have_value("")

    # The same scan sent again (a retry) is recognised by its id and picks nothing new.
    again = walt.context.request.post(
        f"/shipments/{shipment_no}/lines",
        form={
            "csrf_token": walt.locator("#pick-form input[name=csrf_token]").input_value(),
            "quantity": "1",
            "scan": labels[0],
            "key": answered[0]["id"],
        },
        headers={"HX-Request": "true"},
    )
    assert again.status == 200
    assert f"Already picked; nothing new (1 kg of lot {LOT})." in again.text()
    assert len(picked(slow_server, shipment_no)) == SCANS


def test_a_scan_whose_answer_is_lost_is_sent_again_and_picked_once(
    new_context: Callable[..., BrowserContext], slow_server: LiveServer
) -> None:
    walt = new_context(slow_server.url, HANDHELD).new_page()
    shipment_no = open_shipment(walt, "PO-SCAN-LOST")
    lost: list[str] = []

    def lose_first_answer(route: Route) -> None:
        if lost:
            route.continue_()
            return
        route.fetch()  # the server picks it...
        lost.append(route.request.post_data or "")
        route.abort("connectionreset")  # ...and the answer never reaches the handheld

    walt.route(f"**/shipments/{shipment_no}/lines", lose_first_answer)
    walt.keyboard.type(label(1), delay=2)
    walt.keyboard.press("Enter")
    walt.keyboard.type(label(2), delay=2)
    walt.keyboard.press("Enter")

    walt.wait_for_function("() => window.answered.length >= 2", timeout=30_000)
    answered = walt.evaluate("window.answered")
    assert [a["value"] for a in answered] == [label(1), label(2)]
    assert answered[0]["outcome"] == f"Already picked; nothing new (1 kg of lot {LOT})."
    assert answered[1]["outcome"] == f"Picked 1 kg of lot {LOT}."
    assert picked(slow_server, shipment_no) == [label(1), label(2)]
    expect(walt.locator("#network-banner")).to_be_hidden()
    expect(walt.locator("#shipment-lines .pick-row")).to_have_count(2)
