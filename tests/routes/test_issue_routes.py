"""Issue to a batch over HTTP (issue 12 points 2-5): our own GS1 lot label scans in the lot
field, every field's refusal beside its field with the form kept, the pick list's lot checked
against the lot in hand, and back to the pick list with the line ticked."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlmodel import Session

from app.models import InventoryMovement, User
from app.services.core import gs1
from app.services.masterdata import materials
from app.services.warehouse import ledger
from tests.conftest import count
from tests.routes.conftest import Browser
from tests.routes.test_lots_routes import _lot

BATCH = "VC500-26-0042"


def _label(session: Session, lot_code: str) -> str:
    lot = ledger.get_lot(session, lot_code)
    material = materials.get_material(session, lot.material_id)
    label = gs1.lot_label(gtin=material.gtin or lot.gtin, lot_code=lot.lot_code, expiry=lot.expiry)
    return label.element_string


@pytest.mark.parametrize("prefix", ["", "]C1"])
def test_our_own_lot_label_is_read_in_the_lot_field(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User], prefix: str
) -> None:
    _lot(session, make_user)
    mgs = ledger.get_lot(session, "MGS-2610-01")
    scanned = prefix + _label(session, mgs.lot_code)
    assert scanned.lstrip("]C1")[:2] in ("01", "17")  # a GS1 element string, not the code
    answer = signed_in("warehouse").post(
        "/lots/issue",
        {"lot": scanned, "quantity": "0.2", "batch_no": BATCH, "key": uuid.uuid4().hex},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert answer.headers["Location"].endswith(f"/lots/{mgs.lot_code}")
    assert ledger.balance(session, mgs.id) == Decimal("4.8")  # type: ignore[arg-type]


def test_the_bracketed_text_under_our_label_is_read_too(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    _lot(session, make_user)
    mgs = ledger.get_lot(session, "MGS-2610-01")
    hri = gs1.parse_scan(_label(session, mgs.lot_code)).hri
    answer = signed_in("warehouse").post(
        "/lots/issue", {"lot": hri, "quantity": "0.2", "batch_no": BATCH, "key": uuid.uuid4().hex}
    )
    assert answer.status_code == 302


def test_scanning_only_the_batch_says_what_each_other_field_needs(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    """Today's stumble: the batch scan sent the form, which said only 'Enter the quantity'."""
    _lot(session, make_user)
    moves = count(session, InventoryMovement)
    answer = signed_in("warehouse").post(
        "/lots/issue", {"batch_no": BATCH, "lot": "", "quantity": "", "key": uuid.uuid4().hex}
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert '<p class="field-error" id="lot-error">Scan the lot label.</p>' in html
    assert 'id="quantity-error"' in html
    assert f'name="batch_no" value="{BATCH}"' in html  # what was scanned is kept
    assert count(session, InventoryMovement) == moves


def test_an_unknown_lot_label_is_refused_beside_the_lot_field_not_a_page(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    _lot(session, make_user)
    scanned = "]C10109501101020917" + "17280531" + "10NOSUCH-LOT"
    answer = signed_in("warehouse").post(
        "/lots/issue",
        {"lot": scanned, "quantity": "1", "batch_no": BATCH, "key": uuid.uuid4().hex},
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert re.search(r'id="lot-error">There is no lot &#39;NOSUCH-LOT&#39;.</p>', html), html
    assert 'aria-describedby="lot-error"' in html
    assert f'name="batch_no" value="{BATCH}"' in html


def test_a_gtin_with_a_wrong_check_digit_is_refused_beside_the_lot_field(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    _lot(session, make_user)
    answer = signed_in("warehouse").post(
        "/lots/issue",
        {"lot": "0109501101020918" + "10MGS-2610-01", "quantity": "1", "batch_no": BATCH,
         "key": uuid.uuid4().hex},
    )  # fmt: skip
    assert answer.status_code == 422
    assert 'id="lot-error"' in answer.get_data(as_text=True)


def test_the_lot_in_hand_must_be_the_lot_the_pick_list_named(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    _lot(session, make_user)
    walt = signed_in("warehouse")
    form = walt.client.get(
        f"/lots/issue?expected_lot=MGS-2610-01&batch_no={BATCH}&quantity=0.500"
    ).get_data(as_text=True)
    assert 'name="lot" value=""' in form  # a hint, never pre-filled
    assert "pick list: lot MGS-2610-01" in form
    moves = count(session, InventoryMovement)
    answer = walt.post(
        "/lots/issue",
        {"lot": "ASC-2611-07", "expected_lot": "MGS-2610-01", "quantity": "0.500",
         "batch_no": BATCH, "key": uuid.uuid4().hex},
    )  # fmt: skip
    assert answer.status_code == 422
    assert (
        '<p class="field-error" id="lot-error">This is lot ASC-2611-07; the pick list asks for '
        "lot MGS-2610-01. Scan the label of MGS-2610-01, or go back to the pick list to choose "
        "another lot.</p>"
    ) in answer.get_data(as_text=True)
    assert count(session, InventoryMovement) == moves


def test_after_an_issue_from_the_pick_list_the_list_comes_back_ticked(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    _lot(session, make_user)
    walt = signed_in("warehouse")
    before = walt.client.get(f"/lots/pick?batch_no={BATCH}").get_data(as_text=True)
    assert 'id="pick-RM-MGS" data-done="no"' in before
    answer = walt.post(
        "/lots/issue",
        {"lot": "MGS-2610-01", "expected_lot": "MGS-2610-01", "quantity": "0.500",
         "batch_no": BATCH, "key": uuid.uuid4().hex},
    )  # fmt: skip
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/lots/pick?batch_no={BATCH}")
    after = walt.client.get(f"/lots/pick?batch_no={BATCH}").get_data(as_text=True)
    assert 'id="pick-RM-MGS" data-done="yes"' in after
    done = after[after.index('id="pick-RM-MGS"') :].split("</section>")[0]
    assert "Issued in full" in done
    assert "/lots/issue" not in done  # no button left on a finished line
    assert after.count("data-next") == 1  # the next open line's first lot is focused
    assert "Issued 0.500 kg of lot MGS-2610-01 to VC500-26-0042." in after


def test_a_forged_pick_list_hint_is_refused_in_a_sentence(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    _lot(session, make_user)
    answer = signed_in("warehouse").post(
        "/lots/issue",
        {"lot": "MGS-2610-01", "expected_lot": "X" * 5000, "quantity": "0.1", "batch_no": BATCH,
         "key": uuid.uuid4().hex},
    )  # fmt: skip
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="lot-error"' in html
    assert "X" * 100 not in html.split('id="lot-error"')[1][:400]  # said, not echoed
