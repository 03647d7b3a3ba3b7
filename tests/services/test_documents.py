"""Controlled documents (issue 11 point 6): revisions with a lifecycle, approval by a QA
signature that is not the author's, frozen text (service and database), old revisions kept, and
retraining when a new revision comes into force."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from app.models import DocumentRevision, Meaning, RevisionStatus, Signature, User
from app.services.core.errors import PermissionDenied, Rejected
from app.services.masterdata import document_approval, documents, training
from tests.clock import at
from tests.conftest import SYSTEM, audit_actions
from tests.signing import NOW, Signer, effective_sop
from tests.signing import sign_with_password as signed_by

LATER = NOW + timedelta(days=30)


@pytest.fixture
def author(make_signer: Callable[..., Signer]) -> Signer:
    return make_signer("admin", "qa", username="ada", full_name="Ada Ferreira")


@pytest.fixture
def approver(make_signer: Callable[..., Signer]) -> Signer:
    return make_signer("qa", username="quinn", full_name="Quinn Adeyemi")


def _draft(session: Session, author: User, **fields: str) -> DocumentRevision:
    return documents.add_document(
        session,
        actor=author,
        code=fields.get("code", "SOP-QA-001"),
        title="Good documentation practice",
        revision=fields.get("revision", "3"),
        body=fields.get("body", "Record entries at the time."),
        clock=at(NOW),
    )


def _approve(session: Session, revision: DocumentRevision, approver: User, when=NOW) -> Signature:  # type: ignore[no-untyped-def]
    return signed_by(
        session, approver, record_type="sop", record_id=revision.id, meaning="approved",
        clock=at(when),
    )  # fmt: skip


def test_a_revision_goes_draft_review_effective_by_a_qa_signature_then_superseded(
    session: Session, author: Signer, approver: Signer
) -> None:
    rev3 = _draft(session, author.user)
    assert rev3.status == RevisionStatus.DRAFT
    documents.edit_draft(
        session, actor=author.user, revision_id=rev3.id, body="Record every entry at the time.",
        change_note="Clearer.", clock=at(NOW),
    )  # type: ignore[arg-type]  # fmt: skip
    documents.submit_for_review(session, actor=author.user, revision_id=rev3.id, clock=at(NOW))  # type: ignore[arg-type]
    assert rev3.status == RevisionStatus.IN_REVIEW

    signature = _approve(session, rev3, approver.user)

    assert rev3.status == RevisionStatus.EFFECTIVE and rev3.effective_at == NOW
    assert document_approval.approval_of(session, rev3) == signature
    assert signature.meaning == Meaning.APPROVED and signature.signer_id == approver.user.id

    rev4 = documents.start_revision(
        session, actor=author.user, document_id=rev3.document_id, clock=at(LATER)
    )
    assert (rev4.revision, rev4.body, rev4.status) == ("4", rev3.body, "draft")
    documents.edit_draft(
        session, actor=author.user, revision_id=rev4.id, body="Record entries yourself.",
        clock=at(LATER),
    )  # type: ignore[arg-type]  # fmt: skip
    documents.submit_for_review(session, actor=author.user, revision_id=rev4.id, clock=at(LATER))  # type: ignore[arg-type]
    _approve(session, rev4, approver.user, when=LATER)

    assert (rev3.status, rev4.status) == ("superseded", "effective")
    assert rev3.superseded_at == LATER
    # The old revision is kept, with its own text, and the page reads it.
    page = document_approval.revision_page(
        session, document_id=rev3.document_id, revision_id=rev3.id
    )
    assert page.revision.body == "Record every entry at the time."
    assert [r.revision for r in page.revisions] == ["3", "4"]
    assert documents.effective_revision(session, "sop-qa-001") == rev4
    assert audit_actions(session, entity_type="sop", entity_id=str(rev3.id)) == [
        "document.revision_started",
        "document.text_changed",
        "document.submitted",
        "signature.created",
        "document.effective",
        "document.superseded",
    ]


def test_the_author_cannot_approve_their_own_revision(
    session: Session, author: Signer, approver: Signer
) -> None:
    draft = _draft(session, author.user)
    documents.submit_for_review(session, actor=author.user, revision_id=draft.id, clock=at(NOW))  # type: ignore[arg-type]

    with pytest.raises(PermissionDenied, match="You wrote this revision"):
        _approve(session, draft, author.user)
    assert draft.status == RevisionStatus.IN_REVIEW
    assert document_approval.approval_of(session, draft) is None


def test_only_qa_approves_and_only_a_revision_in_review(
    session: Session, author: Signer, make_signer: Callable[..., Signer], approver: Signer
) -> None:
    draft = _draft(session, author.user)
    with pytest.raises(PermissionDenied, match="only a revision in review is approved"):
        _approve(session, draft, approver.user)
    documents.submit_for_review(session, actor=author.user, revision_id=draft.id, clock=at(NOW))  # type: ignore[arg-type]
    supervisor = make_signer("supervisor")
    with pytest.raises(PermissionDenied):
        _approve(session, draft, supervisor.user)
    assert draft.status == RevisionStatus.IN_REVIEW


def test_text_is_frozen_from_review_on(session: Session, author: Signer, approver: Signer) -> None:
    draft = _draft(session, author.user)
    documents.submit_for_review(session, actor=author.user, revision_id=draft.id, clock=at(NOW))  # type: ignore[arg-type]
    with pytest.raises(Rejected, match="in review and its text frozen"):
        documents.edit_draft(
            session, actor=author.user, revision_id=draft.id, body="x", clock=at(NOW)
        )  # type: ignore[arg-type]
    _approve(session, draft, approver.user)
    with pytest.raises(Rejected, match="effective and its text can never change"):
        documents.edit_draft(
            session, actor=author.user, revision_id=draft.id, body="x", clock=at(NOW)
        )  # type: ignore[arg-type]
    assert draft.body == "Record entries at the time."


def test_the_database_refuses_to_change_frozen_text(
    session: Session, author: Signer, approver: Signer
) -> None:
    draft = _draft(session, author.user)
    documents.submit_for_review(session, actor=author.user, revision_id=draft.id, clock=at(NOW))  # type: ignore[arg-type]
    with pytest.raises(DatabaseError, match="frozen"), session.begin_nested():
        session.execute(
            text("UPDATE document_revision SET body = 'x' WHERE id = :id"), {"id": draft.id}
        )
    _approve(session, draft, approver.user)
    for sql in (
        "UPDATE document_revision SET body = 'x' WHERE id = :id",
        "UPDATE document_revision SET status = 'draft' WHERE id = :id",
        "UPDATE document_revision SET revision = '9' WHERE id = :id",
    ):
        with pytest.raises(DatabaseError, match="frozen"), session.begin_nested():
            session.execute(text(sql), {"id": draft.id})
    deleting = text("DELETE FROM document_revision WHERE id = :id")
    with (
        pytest.raises(DatabaseError, match="append-only|permission denied"),
        session.begin_nested(),
    ):
        session.execute(deleting, {"id": draft.id})


def test_read_and_understood_is_signed_on_the_effective_revision_only(
    session: Session, author: Signer, approver: Signer
) -> None:
    draft = _draft(session, author.user)
    with pytest.raises(PermissionDenied, match="only the effective revision"):
        signed_by(
            session, approver.user, record_type="sop", record_id=draft.id,
            meaning="read_and_understood",
        )  # fmt: skip


def test_one_open_revision_at_a_time_and_labels_count_on(
    session: Session, author: Signer, admin: User
) -> None:
    sop = effective_sop(
        session, admin, code="SOP-PR-014", title="Line clearance", revision="B", body="Clear."
    )
    rev_c = documents.start_revision(
        session, actor=author.user, document_id=sop.document_id, clock=at(NOW)
    )
    assert rev_c.revision == "C"
    with pytest.raises(Rejected, match="Revision C is still draft"):
        documents.start_revision(
            session, actor=author.user, document_id=sop.document_id, clock=at(NOW)
        )
    assert [documents.next_label(x) for x in ("3", "2.9", "09", "B", "Z", "v")] == [
        "4", "2.10", "10", "C", None, "w",
    ]  # fmt: skip


def test_operators_cannot_write_documents(session: Session, make_user: Callable[..., User]) -> None:
    with pytest.raises(PermissionDenied):
        _draft(session, make_user("operator"))


def test_paper_approval_is_for_the_system_only(session: Session, author: Signer) -> None:
    draft = _draft(session, author.user)
    documents.submit_for_review(session, actor=author.user, revision_id=draft.id, clock=at(NOW))  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied, match="approved by signature"):
        document_approval.approve_outside_the_system(
            session, actor=author.user, revision_id=draft.id, reference="X", clock=at(NOW)
        )  # type: ignore[arg-type]
    document_approval.approve_outside_the_system(
        session, actor=SYSTEM, revision_id=draft.id, reference="QA-2025-7", clock=at(NOW)
    )  # type: ignore[arg-type]
    assert document_approval.paper_approval(session, draft) == (
        "Approved outside the system: QA-2025-7"
    )


# Retraining ------------------------------------------------------------------------------------


@pytest.fixture
def sop_curriculum(session: Session) -> None:
    training.create_curriculum(
        session, actor=SYSTEM, code="SOP-QA-001", title="Good documentation practice",
        kind="sop", validity_days=730, clock=at(NOW),
    )  # fmt: skip


def test_a_new_effective_revision_makes_earlier_training_due_until_retrained(
    session: Session,
    author: Signer,
    approver: Signer,
    sop_curriculum: None,
    make_user: Callable[..., User],
) -> None:
    from app.models import RecipeStep

    rev3 = _draft(session, author.user)
    documents.submit_for_review(session, actor=author.user, revision_id=rev3.id, clock=at(NOW))  # type: ignore[arg-type]
    _approve(session, rev3, approver.user)
    olivia = make_user("operator", full_name="Olivia Okafor")
    training.record_training(
        session, actor=approver.user, user_id=olivia.id, curriculum_code="SOP-QA-001",
        trained_on=NOW.date(), clock=at(NOW + timedelta(hours=1)),
    )  # type: ignore[arg-type]  # fmt: skip
    step = RecipeStep(revision_id=0, position=1, code="10", kind="instruction", title="Clear",
                      instruction="", training_code="SOP-QA-001")  # fmt: skip
    assert training.step_qualification(session, user=olivia, step=step, clock=at(LATER)) == []

    rev4 = documents.start_revision(
        session, actor=author.user, document_id=rev3.document_id, clock=at(LATER)
    )
    documents.submit_for_review(session, actor=author.user, revision_id=rev4.id, clock=at(LATER))  # type: ignore[arg-type]
    _approve(session, rev4, approver.user, when=LATER)

    later = at(LATER + timedelta(hours=1))
    state = training.training_state(session, user=olivia, code="SOP-QA-001", today=later.today())
    assert state is not None and not state.current
    assert state.words == "Due — retrain on revision 4"
    problems = training.step_qualification(session, user=olivia, step=step, clock=later)
    assert [v.code for v in problems] == ["training.retrain"]
    assert "retrain on revision 4" in problems[0].message
    [(_, [cell])] = [row for row in training.matrix(session, today=later.today())
                     if row[0].id == olivia.id]  # fmt: skip
    assert cell.words == "Due — retrain on revision 4"

    # Retrained on revision 4: no reason is asked for (the earlier record is no longer valid).
    training.record_training(
        session, actor=approver.user, user_id=olivia.id, curriculum_code="SOP-QA-001",
        trained_on=later.today(), clock=later,
    )  # type: ignore[arg-type]  # fmt: skip
    assert training.step_qualification(session, user=olivia, step=step, clock=later) == []


def test_training_recorded_the_morning_a_revision_came_into_force_predates_it(
    session: Session, author: Signer, approver: Signer, sop_curriculum: None,
    make_user: Callable[..., User],
) -> None:  # fmt: skip
    rev3 = _draft(session, author.user)
    documents.submit_for_review(session, actor=author.user, revision_id=rev3.id, clock=at(NOW))  # type: ignore[arg-type]
    person = make_user("operator")
    training.record_training(
        session, actor=approver.user, user_id=person.id, curriculum_code="SOP-QA-001",
        trained_on=NOW.date(), clock=at(NOW),
    )  # type: ignore[arg-type]  # fmt: skip
    _approve(session, rev3, approver.user, when=NOW + timedelta(hours=3))  # the same day
    state = training.training_state(session, user=person, code="SOP-QA-001", today=NOW.date())
    assert state is not None and state.retrain_on == rev3


def test_a_revision_in_force_before_revision_control_asks_nobody_to_retrain() -> None:
    from datetime import date, datetime

    from app.models import TrainingRecord

    migrated = DocumentRevision(
        document_id=1, revision="3", status="effective", body="x", created_at=NOW
    )
    old = TrainingRecord(
        user_id=1, curriculum_id=1, trained_on=date(2020, 1, 1), expires_on=date(2030, 1, 1),
        recorded_at=datetime(2020, 1, 1, tzinfo=NOW.tzinfo),
    )  # fmt: skip
    assert not training.predates(old, migrated)


# Concurrency -----------------------------------------------------------------------------------


def test_two_qa_approving_one_revision_at_once_make_it_effective_once(
    backend: str, app_database: Callable[[str], str]
) -> None:
    """Real threads, real commits: the revision's row lock serialises the two approvals; the
    second sees the first's outcome and is refused, so one revision is effective, once."""
    import threading

    from app.db import Database
    from app.services.accounts.auth import find_user
    from app.services.accounts.users import NewUser, create_user
    from app.services.demo import seed_demo
    from app.services.esign import signatures, signers
    from tests.conftest import PASSWORD
    from tests.signing import POLICY, RP, acknowledge

    db = Database(app_database(backend))
    with db.session_scope() as s:
        seed_demo(s, actor=SYSTEM, clock=at(NOW))
        for name in ("qa8", "qa9"):
            person = create_user(
                s, actor=SYSTEM, new=NewUser(name, name.upper(), ("qa",), PASSWORD), clock=at(NOW)
            )
            signers.record_identity_check(
                s, actor=find_user(s, "ada"), user_id=person.id, document_type="passport",
                document_reference=name, clock=at(NOW),
            )  # type: ignore[arg-type]  # fmt: skip
            acknowledge(s, person)
        ada = find_user(s, "ada")
        rev3 = documents.effective_revision(s, "SOP-QA-001")
        assert ada is not None and rev3 is not None
        rev4 = documents.start_revision(s, actor=ada, document_id=rev3.document_id, clock=at(NOW))
        documents.submit_for_review(s, actor=ada, revision_id=rev4.id, clock=at(NOW))  # type: ignore[arg-type]
        rev3_id, rev4_id = rev3.id, rev4.id
    challenges = {}
    for name in ("qa8", "qa9"):
        with db.session_scope() as s:
            challenges[name] = signatures.begin_signing(
                s, signer=find_user(s, name), record_type="sop", record_id=str(rev4_id),
                meaning="approved", rp=RP, policy=POLICY, clock=at(LATER),
            ).challenge_id  # type: ignore[arg-type]  # fmt: skip

    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def approve(name: str) -> None:
        barrier.wait()
        try:
            with db.session_scope() as s:
                signer = find_user(s, name)
                signature = signatures.sign_with_password(
                    s, signer=signer, challenge_id=challenges[name], username=name,
                    password=PASSWORD, policy=POLICY, clock=at(LATER),
                )  # type: ignore[arg-type]  # fmt: skip
                outcomes.append(signature.id)
        except Exception as exc:  # noqa: BLE001 - every outcome is inspected below
            outcomes.append(exc)

    threads = [threading.Thread(target=approve, args=(name,)) for name in ("qa8", "qa9")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.session_scope() as s:
        approvals = s.exec(
            select(Signature).where(
                Signature.record_type == "sop",
                Signature.record_id == str(rev4_id),
                Signature.meaning == "approved",
            )
        ).all()
        statuses = (
            documents.get_revision(s, rev3_id).status,  # type: ignore[arg-type]
            documents.get_revision(s, rev4_id).status,  # type: ignore[arg-type]
        )
        made_effective = audit_actions(s, entity_type="sop", entity_id=str(rev4_id)).count(
            "document.effective"
        )
    db.engine.dispose()

    assert len(approvals) == 1, outcomes
    assert sorted(type(o).__name__ for o in outcomes) in (
        ["DecisionRefused", "int"],
        ["SignatureRefused", "int"],
    )
    assert statuses == ("superseded", "effective")
    assert made_effective == 1
