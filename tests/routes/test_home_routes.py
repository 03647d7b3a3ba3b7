"""Each demo person's home opens with what needs them now, then the menu of their roles: only
what they may do, no link twice."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from sqlmodel import Session

from app.models import User
from app.services.accounts.auth import find_user
from app.services.demo import DEMO_PASSWORD, seed_demo
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM
from tests.routes.conftest import Browser
from tests.signing import Signer

MAIN_RE = re.compile(r'<main id="main" class="main">(.*)</main>', re.S)
TAG_RE = re.compile(r"<[^>]+>")
HREF_RE = re.compile(r'href="([^"]+)"')
NEED_RE = re.compile(r'<li id="need-([a-z-]+)">')
STOCK_MOVES = ("/lots/receive", "/lots/pick", "/lots/issue", "/lots/output", "/shipments/")

# What waits for each demo person (SCENARIOS.md) once Samira has planned a batch: only Ada and
# Quinn have signed their e-signature acknowledgement; the blender BL-01 is overdue for
# calibration; Otto's VC500 training has expired.
HOMES = {
    "olivia": ["signing", "equipment"],
    "omar": ["signing", "equipment"],
    "otto": ["signing", "equipment", "training"],
    "walt": ["pick", "signing"],
    "quinn": ["equipment", "team-training"],
    "sam": ["signing", "equipment", "team-training"],
    "ada": ["equipment", "team-training"],
}


@pytest.fixture
def demo_plant(session: Session) -> Session:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    batches.create_batch(
        session,
        actor=find_user(session, "sam"),  # type: ignore[arg-type]
        new=BatchIn("VC500", "VC500-26-0042", "100000"),
        clock=CLOCK,
    )
    return session


def home_of(app: Flask, person: User | str, password: str = DEMO_PASSWORD) -> str:
    browser = Browser(app.test_client())
    assert browser.login(person, password).status_code == 302
    answer = browser.client.get("/")
    assert answer.status_code == 200
    main = MAIN_RE.search(answer.get_data(as_text=True))
    assert main is not None
    return main.group(1)


@pytest.mark.parametrize(("username", "kinds"), HOMES.items())
def test_each_demo_home_opens_with_what_needs_the_person_and_no_link_twice(
    app: Flask, demo_plant: Session, username: str, kinds: list[str]
) -> None:
    page = home_of(app, username)

    assert NEED_RE.findall(page) == kinds
    assert page.index("Needs you now") < page.index('class="panels"')
    links = HREF_RE.findall(page)
    assert len(links) == len(set(links)), sorted(links)
    moves = [link for link in links if link.startswith(STOCK_MOVES)]
    if username == "walt":
        assert "/lots/pick?batch_no=VC500-26-0042" in links  # one batch: its pick list
        assert {"/lots/receive", "/lots/issue", "/lots/output", "/shipments/"} <= set(moves)
    else:
        assert moves == [], username  # QA, operators, supervisor: nothing to receive or issue
    assert "Nothing waits for you" not in page


def words(page: str) -> str:
    return " ".join(TAG_RE.sub(" ", page).split())


def test_the_needs_rows_say_how_many_and_what(app: Flask, demo_plant: Session) -> None:
    olivia = home_of(app, "olivia")
    assert '<span class="code">2026-10-23</span>' in olivia  # a date never breaks
    olivia = words(olivia)
    assert "Next: you sign the one-time acknowledgement on your signing page." in olivia
    assert 'href="/account"' in home_of(app, "olivia")  # the step is done there
    assert "BL-01: Calibration overdue since" in olivia
    otto = home_of(app, "otto")
    assert 'href="/training/people/' in otto
    assert "VC500: Expired" in words(otto)

    walt = home_of(app, "walt")
    assert re.search(
        r'need-count">1</span>\s*<span class="need-words">batch waits to be picked', walt
    )


def test_nothing_waits_is_said_calmly(app: Flask, make_signer: Callable[..., Signer]) -> None:
    walt = make_signer("warehouse", username="wally").user  # signing active; no work yet

    page = home_of(app, walt, "correct-horse-battery")

    assert "Nothing waits for you." in page
    assert NEED_RE.findall(page) == []
    assert 'id="panel-warehouse"' in page


def test_a_person_sees_their_own_training_but_not_someone_elses(
    signed_in: Callable[..., Browser], make_user: Callable[..., User]
) -> None:
    operator = signed_in("operator")
    other = make_user("operator")
    own = operator.client.get(f"/training/people/{operator.user.id}")  # type: ignore[attr-defined]

    assert own.status_code == 200
    assert "Training matrix" not in own.get_data(as_text=True)  # not theirs to open
    assert operator.client.get(f"/training/people/{other.id}").status_code == 403
    assert operator.client.get("/training/").status_code == 403


def test_the_lot_list_filters_what_waits_and_offers_stock_moves_only_to_the_warehouse(
    app: Flask, demo_plant: Session
) -> None:
    quinn = Browser(app.test_client())
    quinn.login("quinn", DEMO_PASSWORD)

    everything = quinn.client.get("/lots/").get_data(as_text=True)
    quarantined = quinn.client.get("/lots/?status=quarantine").get_data(as_text=True)
    counted = quinn.client.get("/lots/?count=waiting").get_data(as_text=True)

    assert everything.count('class="card lot-card"') == 4  # the demo's opening stock
    assert "<h1>Lots in quarantine</h1>" in quarantined
    assert quarantined.count('class="card lot-card"') == 0  # all released by Quinn
    assert "None at the moment." in quarantined and "Show all lots" in quarantined
    assert "<h1>Lots with a stock count to approve</h1>" in counted
    assert 'href="/lots/receive"' not in everything
    walt = Browser(app.test_client())
    walt.login("walt", DEMO_PASSWORD)
    assert 'href="/lots/receive"' in walt.client.get("/lots/").get_data(as_text=True)
