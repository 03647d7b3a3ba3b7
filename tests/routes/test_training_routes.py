"""Training pages: the matrix, recording training with messages beside fields, who may."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from app.models import TrainingRecord, User
from app.services.masterdata import training
from tests.clock import CLOCK
from tests.conftest import SYSTEM, count
from tests.routes.conftest import Browser


def _curriculum(session: Session) -> None:
    training.create_curriculum(
        session,
        actor=SYSTEM,
        code="VC500",
        title="VC500 MBR",
        kind="mbr",
        validity_days=365,
        clock=CLOCK,
    )


def test_operators_do_not_see_the_matrix(signed_in: Callable[..., Browser]) -> None:
    answer = signed_in("operator").client.get("/training/")
    assert answer.status_code == 403


def test_qa_records_training_and_the_matrix_shows_it(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    _curriculum(session)
    person = make_user("operator", full_name="Otto Lindqvist")
    qa = signed_in("qa")

    done = qa.post(
        "/training/records",
        {"user_id": person.id, "curriculum": "VC500", "trained_on": "2026-01-10",
         "expires_on": "2026-02-10"},
    )  # fmt: skip

    assert done.status_code == 302
    row = qa.client.get("/training/").get_data(as_text=True)
    assert "Expired 2026-02-10" in row


def test_a_bad_date_is_named_beside_its_field_and_nothing_is_recorded(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    _curriculum(session)
    person = make_user("operator")
    qa = signed_in("qa")

    refused = qa.post(
        "/training/records",
        {"user_id": person.id, "curriculum": "VC500", "trained_on": "10/01/2026"},
    )

    assert refused.status_code == 422
    assert (
        '<p class="field-error" id="trained_on-error">The training date must be a date'
        in refused.get_data(as_text=True)
    )
    assert count(session, TrainingRecord) == 0
