"""Counting taps (issue 12 point 13): what a person does by hand in a flow, against the numbers
recorded in docs/usability.md."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page, expect

DOC = Path(__file__).resolve().parents[2] / "docs" / "usability.md"
GS = "\x1d"


def recorded(flow: str) -> tuple[int, int]:
    """(target, taps) of `flow` in docs/usability.md's table."""
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == flow:
            return int(cells[-2]), int(cells[-1])
    raise AssertionError(f"{flow} is not in {DOC.name}")


class Hand:
    """What a person does by hand, counted: a tap on a control is one, a value typed into a field
    counts with its tap, a scan is none (the scanner's trigger; the cursor is already there)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.taps = 0

    def tap(self, target: Locator) -> None:
        expect(target).to_be_visible()
        target.click()
        self.taps += 1

    def type(self, field: Locator, value: str) -> None:
        expect(field).to_be_visible()
        field.fill(value)
        self.taps += 1

    def scan(self, barcode: str) -> None:
        self.page.keyboard.insert_text(barcode)
        self.page.keyboard.press("Enter")


def assert_within_record(flow: str, taps_now: int) -> None:
    target, taps = recorded(flow)
    assert taps <= target, f"{DOC.name} records {taps} taps for {flow}, over its target {target}"
    assert taps_now <= taps, f"{flow} now takes {taps_now} taps; {DOC.name} records {taps}"
