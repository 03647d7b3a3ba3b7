"""The home on a 360x740 handheld: it opens with what needs the person now, and one tap on a
row lands on the list where that work is."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.db import Database
from app.services.accounts.auth import find_user
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from tests.browser.conftest import sign_in
from tests.clock import CLOCK

NO_HORIZONTAL_SCROLL_JS = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture(scope="module")
def demo_database(demo_database: str) -> str:
    """The demo plant, with Samira's batch VC500-26-0042 planned and nothing issued to it."""
    db = Database(demo_database)
    with db.session_scope() as session:
        batches.create_batch(
            session,
            actor=find_user(session, "sam"),  # type: ignore[arg-type]
            new=BatchIn("VC500", "VC500-26-0042", "100000"),
            clock=CLOCK,
        )
    db.engine.dispose()
    return demo_database


def test_walt_is_told_a_batch_waits_and_one_tap_opens_its_pick_list(handheld: Page) -> None:
    sign_in(handheld, "walt")

    needs = handheld.locator("#needs")
    expect(needs.get_by_role("heading", name="Needs you now")).to_be_visible()
    row = needs.get_by_role("link", name=re.compile("batch waits to be picked"))
    expect(row).to_contain_text("VC500-26-0042")
    expect(row.locator(".need-count")).to_have_text("1")
    box = row.bounding_box()
    assert box is not None
    assert box["height"] >= 48 and box["y"] + box["height"] <= 740  # a glove-sized tap, in view
    assert handheld.evaluate(NO_HORIZONTAL_SCROLL_JS)
    # The menu follows, without the rows' links and without anything twice.
    hrefs = handheld.locator("main a").evaluate_all("links => links.map(a => a.href)")
    assert len(hrefs) == len(set(hrefs))
    menu = handheld.locator("#panel-warehouse")
    expect(menu.get_by_role("link", name="Receive", exact=True)).to_be_visible()

    row.click()

    expect(handheld).to_have_url(re.compile(r"/lots/pick\?batch_no=VC500-26-0042$"))
    expect(handheld.get_by_role("heading", name="Pick for a batch")).to_be_visible()
    expect(handheld.locator(".pick-line")).to_have_count(3)  # VC500's bill of materials
