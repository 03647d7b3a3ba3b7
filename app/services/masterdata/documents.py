"""Controlled documents (SOPs): documents, their revisions, and writing a draft.

A document is read and signed in its effective revision. A change is a new revision: a draft
whose text its author may change, then sent to review (frozen), then approved by a QA person's
signature (`document_approval`), which makes it effective and supersedes the one before. The
text of a revision in review, effective or superseded never changes; every revision stays
readable.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.models import Document, DocumentRevision, RevisionStatus, Role, User
from app.services.core import audit
from app.services.core.actors import Actor, SystemActor, require_role
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, Rejected, Violation, require
from app.services.core.quantities import record_id
from app.services.core.text import NOTE_LENGTH, max_length, read_reason, read_text

RECORD_TYPE = "sop"  # signatures and the audit trail name a revision by this type and its id
AUTHORS = (Role.ADMIN, Role.QA)
DOCUMENT_LENGTH = 100_000  # an SOP's text; a longer body is a paste gone wrong


@dataclass(frozen=True)
class DocumentListing:
    """A document with the revision in force (None before the first approval) and the one
    being written or reviewed (None when no change is under way)."""

    document: Document
    effective: DocumentRevision | None
    open: DocumentRevision | None


def list_documents(session: Session) -> list[DocumentListing]:
    """Every document with its effective and open revision (two reads)."""
    docs = session.exec(select(Document).order_by(Document.code)).all()
    effective: dict[int, DocumentRevision] = {}
    open_: dict[int, DocumentRevision] = {}
    for revision in session.exec(
        select(DocumentRevision).where(
            col(DocumentRevision.status).in_(
                [RevisionStatus.EFFECTIVE, RevisionStatus.DRAFT, RevisionStatus.IN_REVIEW]
            )
        )
    ):
        kept = effective if revision.status == RevisionStatus.EFFECTIVE else open_
        kept[revision.document_id] = revision
    return [DocumentListing(d, effective.get(d.id), open_.get(d.id)) for d in docs]  # type: ignore[arg-type]


def get_document(session: Session, document_id: int) -> Document:
    """Raises NotFound."""
    document = session.get(Document, document_id) if record_id(document_id) else None
    if document is None:
        raise NotFound(f"There is no document with id {document_id}.")
    return document


def get_revision(session: Session, revision_id: int) -> DocumentRevision:
    """Raises NotFound."""
    revision = session.get(DocumentRevision, revision_id) if record_id(revision_id) else None
    if revision is None:
        raise NotFound(f"There is no document revision with id {revision_id}.")
    return revision


def revisions_of(session: Session, document_id: int) -> list[DocumentRevision]:
    """Every revision of a document, oldest first."""
    return list(
        session.exec(
            select(DocumentRevision)
            .where(DocumentRevision.document_id == document_id)
            .order_by(col(DocumentRevision.id))
        )
    )


def shown_revision(revisions: Sequence[DocumentRevision]) -> DocumentRevision:
    """The revision a document's page opens on: the effective one, else the newest."""
    effective = [r for r in revisions if r.status == RevisionStatus.EFFECTIVE]
    return effective[-1] if effective else revisions[-1]


def effective_revision(session: Session, code: str) -> DocumentRevision | None:
    """The revision of document `code` in force now (None: no such document, or none yet)."""
    return session.exec(
        select(DocumentRevision)
        .join(Document, col(Document.id) == DocumentRevision.document_id)
        .where(Document.code == code.strip().upper())
        .where(DocumentRevision.status == RevisionStatus.EFFECTIVE)
    ).first()


def effective_by_code(session: Session) -> dict[str, DocumentRevision]:
    """Every document code with its revision in force (for the training matrix, one read)."""
    rows = session.exec(
        select(Document.code, DocumentRevision)
        .join(DocumentRevision, col(Document.id) == DocumentRevision.document_id)
        .where(DocumentRevision.status == RevisionStatus.EFFECTIVE)
    )
    return dict(rows.all())


def may_author(user: Actor) -> bool:
    """Whether to offer the authoring forms (each command checks again)."""
    return not isinstance(user, User) or user.has_role(*AUTHORS)


def status_words(revision: DocumentRevision) -> str:
    return RevisionStatus(revision.status).label


def add_document(
    session: Session,
    *,
    actor: Actor,
    code: str,
    title: str,
    revision: str,
    body: str,
    clock: Clock,
) -> DocumentRevision:
    """A new document with its first revision, a draft (approved like any later revision).

    Raises:
        PermissionDenied: not admin or QA. Rejected: bad or duplicate fields.
    """
    require_role(actor, *AUTHORS, action="write documents")
    problems: list[Violation] = []
    code = read_text(
        code, field="code", label="document code", problems=problems,
        limit=max_length(Document, "code"), required=True, code=True,
        empty="Enter the document code.",
    ).upper()  # fmt: skip
    if code and session.exec(select(Document).where(Document.code == code)).first():
        problems.append(Violation("code.taken", f"There is already a document {code}.", "code"))
    title = read_text(
        title, field="title", label="title", problems=problems,
        limit=max_length(Document, "title"), required=True, empty="Enter a title.",
    )  # fmt: skip
    label = _read_label(revision, problems)
    body = _read_body(body, problems)
    require(problems)
    document = Document(code=code, title=title)
    session.add(document)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="document.added",
        entity_type="document",
        entity_id=document.id,
        after={"code": code, "title": title},
        clock=clock,
    )
    return _new_revision(session, document, label or "1", body, actor=actor, clock=clock)


def _read_label(raw: str, problems: list[Violation]) -> str:
    return read_text(
        raw, field="revision", label="revision", problems=problems,
        limit=max_length(DocumentRevision, "revision"), code=True,
    )  # fmt: skip


def _read_body(raw: str, problems: list[Violation]) -> str:
    return read_text(
        raw, field="body", label="text", problems=problems, limit=DOCUMENT_LENGTH,
        required=True, multiline=True, empty="The text cannot be empty.",
    )  # fmt: skip


def _new_revision(
    session: Session,
    document: Document,
    label: str,
    body: str,
    *,
    actor: Actor,
    clock: Clock,
    based_on: DocumentRevision | None = None,
) -> DocumentRevision:
    revision = DocumentRevision(
        document_id=document.id,  # type: ignore[arg-type]
        revision=label,
        status=RevisionStatus.DRAFT.value,
        body=body,
        created_by_id=None if isinstance(actor, SystemActor) else actor.id,
        created_at=clock.now(),
    )
    session.add(revision)
    session.flush()
    after = {"code": document.code, "revision": label, "body": body}
    if based_on is not None:
        after["based_on"] = based_on.revision
    audit_revision(session, actor, revision, "revision_started", after=after, clock=clock)
    return revision


def next_label(last: str) -> str | None:
    """The revision after `last`: 3 -> 4, B -> C, 2.1 -> 2.2; None when there is no next."""
    number = re.fullmatch(r"(.*?)(\d+)", last)
    if number:
        head, digits = number.groups()
        return f"{head}{int(digits) + 1:0{len(digits)}d}"
    if len(last) == 1 and last.upper() in string.ascii_uppercase[:-1]:
        return chr(ord(last) + 1)
    return None


def start_revision(
    session: Session, *, actor: Actor, document_id: int, revision: str = "", clock: Clock
) -> DocumentRevision:
    """A new draft copied from the newest revision (a change is always a new revision). Its
    label is the next after the newest one's unless one is given.

    Raises:
        PermissionDenied: not admin or QA. NotFound. Rejected: a draft or review is already
        open, or the label is taken, bad, or cannot be counted on from the last one.
    """
    require_role(actor, *AUTHORS, action="write documents")
    document = _locked_document(session, document_id)
    revisions = revisions_of(session, document_id)
    open_ = [r for r in revisions if r.status in (RevisionStatus.DRAFT, RevisionStatus.IN_REVIEW)]
    if open_:
        raise Rejected(
            [
                Violation(
                    "revision.open",
                    f"Revision {open_[0].revision} is still {status_words(open_[0]).lower()}; "
                    "finish it before starting another.",
                )
            ]
        )
    problems: list[Violation] = []
    label = _read_label(revision, problems)
    source = revisions[-1]
    if not label and not problems:
        label = next_label(source.revision) or ""
        if not label:
            problems.append(
                Violation(
                    "revision.label",
                    f"Revision {source.revision} has no number to count on from; "
                    "name the new revision.",
                    "revision",
                )
            )
    if label and any(r.revision == label for r in revisions):
        problems.append(
            Violation("revision.taken", f"{document.code} already has a revision {label}.",
                      "revision")
        )  # fmt: skip
    require(problems)
    return _new_revision(
        session, document, label, source.body, actor=actor, clock=clock, based_on=source
    )


def _locked_document(session: Session, document_id: int) -> Document:
    """The document row, locked for this transaction: two people starting a revision at once
    never both open one (PostgreSQL; SQLite writes one at a time)."""
    get_document(session, document_id)
    document = session.exec(
        select(Document).where(Document.id == document_id).with_for_update()
    ).one()
    session.refresh(document)
    return document


def locked_revision(session: Session, revision_id: int) -> DocumentRevision:
    """The revision row, locked for this transaction and re-read: a decision on it (an edit,
    sending it to review, an approval) waits for one in flight and sees its outcome."""
    get_revision(session, revision_id)
    revision = session.exec(
        select(DocumentRevision).where(DocumentRevision.id == revision_id).with_for_update()
    ).one()
    session.refresh(revision)
    return revision


def require_draft(revision: DocumentRevision) -> None:
    """Raises Rejected unless the revision is still a draft."""
    if revision.status == RevisionStatus.DRAFT:
        return
    why = {
        RevisionStatus.IN_REVIEW: "is in review and its text frozen; return it to draft to "
        "change it",
        RevisionStatus.EFFECTIVE: "is effective and its text can never change; start a new "
        "revision",
        RevisionStatus.SUPERSEDED: "is superseded and its text can never change",
    }[RevisionStatus(revision.status)]
    raise Rejected([Violation("revision.frozen", f"Revision {revision.revision} {why}.")])


def edit_draft(
    session: Session,
    *,
    actor: Actor,
    revision_id: int,
    body: str,
    change_note: str = "",
    clock: Clock,
) -> DocumentRevision:
    """Change the text and change note of a draft revision (audited with before and after).

    Raises:
        PermissionDenied, NotFound, Rejected (not a draft, empty text, bad note).
    """
    require_role(actor, *AUTHORS, action="write documents")
    revision = locked_revision(session, revision_id)
    require_draft(revision)
    problems: list[Violation] = []
    body = _read_body(body, problems)
    change_note = read_text(
        change_note, field="change_note", label="change note", problems=problems,
        limit=NOTE_LENGTH, multiline=True,
    )  # fmt: skip
    require(problems)
    before = {"body": revision.body, "change_note": revision.change_note}
    revision.body = body
    revision.change_note = change_note
    session.add(revision)
    session.flush()
    audit_revision(
        session, actor, revision, "text_changed", before=before,
        after={"body": body, "change_note": change_note}, clock=clock,
    )  # fmt: skip
    return revision


def submit_for_review(
    session: Session, *, actor: Actor, revision_id: int, clock: Clock
) -> DocumentRevision:
    """Freeze a draft's text and send it to QA for approval.

    Raises:
        PermissionDenied: not admin or QA. NotFound. Rejected: not a draft.
    """
    require_role(actor, *AUTHORS, action="send documents to review")
    revision = locked_revision(session, revision_id)
    require_draft(revision)
    transition(session, actor, revision, RevisionStatus.IN_REVIEW, "submitted", clock=clock)
    return revision


def return_to_draft(
    session: Session, *, actor: Actor, revision_id: int, reason: str, clock: Clock
) -> DocumentRevision:
    """Send a revision in review back to its author, with a reason.

    Raises:
        PermissionDenied: not admin or QA. NotFound. Rejected: not in review, or no reason.
    """
    require_role(actor, *AUTHORS, action="return documents to draft")
    revision = locked_revision(session, revision_id)
    problems: list[Violation] = []
    if revision.status != RevisionStatus.IN_REVIEW:
        problems.append(
            Violation(
                "revision.status",
                f"Revision {revision.revision} is {status_words(revision).lower()}; "
                "only a revision in review can go back to draft.",
            )
        )
    reason = read_reason(reason, problems)
    require(problems)
    transition(
        session, actor, revision, RevisionStatus.DRAFT, "returned_to_draft", reason=reason,
        clock=clock,
    )  # fmt: skip
    return revision


def audit_revision(
    session: Session,
    actor: Actor,
    revision: DocumentRevision,
    action: str,
    clock: Clock,
    *,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"document.{action}",
        entity_type=RECORD_TYPE,
        entity_id=revision.id,
        before=before,
        after=after,
        reason=reason,
        clock=clock,
    )


def transition(
    session: Session,
    actor: Actor,
    revision: DocumentRevision,
    to: RevisionStatus,
    action: str,
    clock: Clock,
    *,
    reason: str | None = None,
    **after: Any,
) -> None:
    """Move a revision to another status, stamp the time, and audit from-to in one place."""
    now = clock.now()
    before = {"status": revision.status}
    revision.status = to.value
    if to == RevisionStatus.IN_REVIEW:
        revision.submitted_at = now
    elif to == RevisionStatus.EFFECTIVE:
        revision.effective_at = now
        revision.effective_on = clock.date_of(now)
    elif to == RevisionStatus.SUPERSEDED:
        revision.superseded_at = now
    session.add(revision)
    session.flush()
    audit_revision(
        session, actor, revision, action, before=before, after={"status": to.value, **after},
        reason=reason, clock=clock,
    )  # fmt: skip
