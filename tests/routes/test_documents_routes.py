"""Document pages: revisions listed and readable, a frozen text refused with its sentence, the
authoring forms; training refusals (own training, a reason) beside their fields."""

from __future__ import annotations

import html
from collections.abc import Callable

from sqlmodel import Session

from app.models import DocumentRevision, TrainingRecord, User
from app.services.masterdata import documents, training
from tests.clock import CLOCK
from tests.conftest import SYSTEM, count
from tests.routes.conftest import Browser


def _text(answer) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(answer.get_data(as_text=True))


def test_an_effective_revision_text_is_refused_with_its_sentence(
    signed_in: Callable[..., Browser], sop: DocumentRevision
) -> None:
    qa = signed_in("qa", "admin")
    refused = qa.post(f"/documents/revisions/{sop.id}/text", {"body": "Rewritten."})
    assert refused.status_code == 422
    assert "Revision 3 is effective and its text can never change; start a new revision." in (
        _text(refused)
    )
    assert "Rewritten." not in _text(qa.client.get(f"/documents/{sop.document_id}"))


def test_a_new_revision_is_drafted_sent_to_review_and_the_old_one_stays_readable(
    signed_in: Callable[..., Browser], sop: DocumentRevision, session: Session
) -> None:
    qa = signed_in("qa", "admin")
    started = qa.post(f"/documents/{sop.document_id}/revisions", {"revision": ""})
    assert started.status_code == 302
    [_, rev4] = documents.revisions_of(session, sop.document_id)
    assert (rev4.revision, rev4.status) == ("4", "draft")
    saved = qa.post(f"/documents/revisions/{rev4.id}/text", {"body": "Record it yourself."})
    assert saved.status_code == 302
    assert qa.post(f"/documents/revisions/{rev4.id}/submit").status_code == 302

    page = _text(qa.client.get(f"/documents/{sop.document_id}/revisions/{rev4.id}"))
    assert "Record it yourself." in page and 'data-status="in_review"' in page
    assert "Approve (QA)" in page
    old = _text(qa.client.get(f"/documents/{sop.document_id}/revisions/{sop.id}"))
    assert "Record entries at the time of the activity." in old
    assert "3 (effective)" in old and "4 (in review)" in old


def test_a_new_document_is_a_draft_and_a_bad_field_is_named(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    qa = signed_in("qa")
    refused = qa.post("/documents/", {"code": "SOP-X", "title": "", "body": "Text"})
    assert refused.status_code == 422
    assert '<p class="field-error" id="title-error">Enter a title.</p>' in _text(refused)
    done = qa.post("/documents/", {"code": "sop-x", "title": "X", "body": "Text"})
    assert done.status_code == 302
    [listing] = [d for d in documents.list_documents(session) if d.document.code == "SOP-X"]
    assert listing.effective is None and listing.open is not None


def test_qa_recording_their_own_training_is_refused_beside_the_person(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    training.create_curriculum(
        session, actor=SYSTEM, code="VC500", title="VC500 MBR", kind="mbr", validity_days=365,
        clock=CLOCK,
    )  # fmt: skip
    qa = signed_in("qa")
    refused = qa.post(
        "/training/records",
        {"user_id": qa.user.id, "curriculum": "VC500", "trained_on": "2026-11-20"},  # type: ignore[attr-defined]
    )
    assert refused.status_code == 422
    assert (
        '<p class="field-error" id="user_id-error">You cannot record your own training; another '
        "admin or QA person records it.</p>"
    ) in _text(refused)
    assert count(session, TrainingRecord) == 0


def test_a_second_valid_record_asks_for_a_reason_and_the_history_shows_it(
    signed_in: Callable[..., Browser], session: Session, make_user: Callable[..., User]
) -> None:
    training.create_curriculum(
        session, actor=SYSTEM, code="VC500", title="VC500 MBR", kind="mbr", validity_days=365,
        clock=CLOCK,
    )  # fmt: skip
    person = make_user("operator", full_name="Olivia Okafor")
    qa = signed_in("qa")
    form = {"user_id": person.id, "curriculum": "VC500", "trained_on": "2026-11-20"}
    assert qa.post("/training/records", form).status_code == 302

    refused = qa.post("/training/records", form)
    assert refused.status_code == 422
    assert '<p class="field-error" id="reason-error">Olivia Okafor is trained on VC500 until' in (
        _text(refused)
    )
    assert count(session, TrainingRecord) == 1

    done = qa.post("/training/records", {**form, "reason": "Refresher after a deviation"})
    assert done.status_code == 302
    page = _text(qa.client.get(f"/training/people/{person.id}"))
    assert "Refresher after a deviation" in page
    assert page.count('id="training-record-') == 2
