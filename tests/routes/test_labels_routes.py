"""The label sheet and the lot page's label section over HTTP (issue 12 points 8, 11 and 12): one
label per container, "n of N"; a Print button of the page's own; the reprint reason only for a
reprint, its refusal beside the field and, for htmx, the section alone; the history in words."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from sqlmodel import Session

from app.models import AuditEvent, Lot, User
from app.services.accounts.auth import find_user
from app.services.core import gs1
from app.services.demo import master as demo_master
from app.services.warehouse import receipt
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM, count
from tests.routes.conftest import Browser


def _lot(session: Session, walt: User, containers: str = "4") -> Lot:
    demo_master.seed_master_data(session, actor=SYSTEM, clock=CLOCK)
    lot, _ = receipt.receive(
        session,
        actor=walt,
        new=ReceiptIn("RM-ASC", "SUP-NORTHBRIDGE", "S-1", "100", date(2028, 5, 31), containers,
                      key="k1"),
        clock=CLOCK,
    )  # fmt: skip
    return lot


def _label_section(page: str, lot: Lot) -> str:
    start = page.index(f'<section class="card stack" id="lot-{lot.id}-label">')
    return page[start : page.index("</section>", start)]


def test_a_print_gives_one_label_per_container_and_a_print_button(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    walt = signed_in("warehouse")
    lot = _lot(session, walt.user)  # type: ignore[attr-defined]

    printed = walt.post(f"/lots/{lot.lot_code}/label")
    html = printed.get_data(as_text=True)

    assert printed.status_code == 200
    assert html.count('<article class="lot-label" id="lot-label-') == 4
    found = re.findall(r'<p class="label-container">Container (\d) of (\d)</p>', html)
    assert found == [("1", "4"), ("2", "4"), ("3", "4"), ("4", "4")]
    hri = f"(01)04012345000016(17)280531(10){lot.lot_code}"
    assert html.count(f'<p class="label-hri">{hri}</p>') == 4  # every label the lot's barcode
    assert html.count(f'id="{gs1.SYMBOL_ID}"') == 1  # drawn once, used again
    assert html.count(f'<use href="#{gs1.SYMBOL_ID}"/>') == 3
    assert "data-autoprint" in html  # the dialog still opens by itself
    assert re.search(r'<button type="button" class="btn btn-primary btn-block" id="label-print" '
                     r"data-print>Print 4 labels</button>", html)  # fmt: skip
    assert "onclick" not in html  # no inline script: the CSP forbids it


def test_the_reason_field_is_there_only_for_a_reprint(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    walt = signed_in("warehouse")
    lot = _lot(session, walt.user)  # type: ignore[attr-defined]

    first = _label_section(walt.client.get(f"/lots/{lot.lot_code}").get_data(as_text=True), lot)
    assert 'name="reason"' not in first
    assert ">Print lot labels (4 containers)</button>" in first
    assert "One label per container: 4 labels" in first

    walt.post(f"/lots/{lot.lot_code}/label")
    again = _label_section(walt.client.get(f"/lots/{lot.lot_code}").get_data(as_text=True), lot)
    assert "Reason for the reprint" in again and 'name="reason"' in again
    assert ">Reprint lot labels (4 containers)</button>" in again


def test_a_reprint_without_reason_answers_htmx_with_the_section_and_the_message_beside_it(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    """Point 8: the message sits beside the reason field, in the section the form is in."""
    walt = signed_in("warehouse")
    lot = _lot(session, walt.user)  # type: ignore[attr-defined]
    walt.post(f"/lots/{lot.lot_code}/label")
    trail = count(session, AuditEvent)

    refused = walt.post(f"/lots/{lot.lot_code}/label", {"reason": "  "}, htmx=True)
    html = refused.get_data(as_text=True)

    assert refused.status_code == 422
    assert html.startswith(f'<section class="card stack" id="lot-{lot.id}-label">')  # not a page
    assert "<html" not in html and 'id="lot-history"' not in html
    assert refused.headers["HX-Retarget"] == f"#lot-{lot.id}-label"
    assert refused.headers["HX-Reswap"] == "outerHTML"
    assert refused.headers["HX-Push-Url"] == "false"  # the address bar stays on the lot
    field = re.search(r"<label class=\"field\">Reason for the reprint <input [^>]*>", html)
    assert field is not None
    assert "autofocus" in field.group(0) and 'aria-describedby="reason-error"' in field.group(0)
    message = "This label was printed before: give a reason for the reprint."
    assert f'</label><p class="field-error" id="reason-error">{message}</p>' in html  # beside it
    assert count(session, AuditEvent) == trail


def test_the_lot_history_reads_in_sentences(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    walt = signed_in("warehouse")
    user = walt.user  # type: ignore[attr-defined]
    lot = _lot(session, user)
    walt.post(f"/lots/{lot.lot_code}/label")
    walt.post(f"/lots/{lot.lot_code}/label", {"reason": "Torn"})
    name = find_user(session, user.username).full_name  # type: ignore[union-attr]

    page = walt.client.get(f"/lots/{lot.lot_code}").get_data(as_text=True)
    history = page[page.index('id="lot-history"') : page.index('id="lot-where-used"')]

    # The times are the plant's (on PostgreSQL the trail's own clock writes them).
    rows = re.findall(
        r'<li class="history-row">\d{4}-\d\d-\d\d \d\d:\d\d CES?T · ([^<]*)</li>', history
    )
    assert rows == [
        f"Received 100 kg in 4 containers into quarantine by {name}",
        f"4 labels printed by {name}",
        f"4 labels reprinted by {name} — Torn",
    ]
    assert "lot.received" not in history and "label_printed" not in history
