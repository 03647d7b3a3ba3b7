"""Controlled documents (SOPs): people sign them as read and understood."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import Document, Meaning, Role, User
from app.services.core import audit
from app.services.core.actors import Actor, require_role
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, Violation, require
from app.services.core.text import read_reason, read_text
from app.services.esign import signable

DOCUMENT_LENGTH = 100_000  # an SOP's text; a longer body is a paste gone wrong


def list_documents(session: Session) -> list[Document]:
    return list(session.exec(select(Document).order_by(Document.code)))


def get_document(session: Session, document_id: int) -> Document:
    """Raises NotFound."""
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound(f"There is no document with id {document_id}.")
    return document


def may_edit(user: Actor) -> bool:
    """Whether to offer the edit form (the edit itself checks again)."""
    return not isinstance(user, User) or user.has_role(Role.ADMIN)


def add_document(
    session: Session,
    *,
    actor: Actor,
    code: str,
    title: str,
    revision: str,
    body: str,
    clock: Clock,
) -> Document:
    """Raises PermissionDenied (admin only)."""
    require_role(actor, Role.ADMIN, action="add documents")
    document = Document(code=code, title=title, revision=revision, body=body)
    session.add(document)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="document.added",
        entity_type="document",
        entity_id=document.id,
        after={"code": code, "title": title, "revision": revision, "body": body},
        clock=clock,
    )
    return document


def edit_document(
    session: Session,
    *,
    actor: Actor,
    document_id: int,
    body: str,
    reason: str | None,
    clock: Clock,
) -> Document:
    """Change a document's text (audited with before and after). Signatures on it become invalid.

    Raises:
        PermissionDenied, NotFound, Rejected (empty text or no reason).
    """
    require_role(actor, Role.ADMIN, action="edit documents")
    document = get_document(session, document_id)
    problems: list[Violation] = []
    body = read_text(
        body, field="body", label="text", problems=problems, limit=DOCUMENT_LENGTH,
        required=True, multiline=True, empty="The text cannot be empty.",
    )  # fmt: skip
    reason = read_reason(reason, problems, empty="Give a reason.")
    require(problems)
    before = {"body": document.body}
    document.body = body
    session.add(document)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="document.edited",
        entity_type="document",
        entity_id=document.id,
        before=before,
        after={"body": document.body},
        reason=reason,
        clock=clock,
    )
    return document


@signable.register("sop")
def _sop(session: Session, record_id: str) -> signable.Signable:
    document = get_document(session, int(record_id)) if record_id.isdigit() else None
    if document is None:
        raise NotFound(f"There is no document {record_id!r}.")
    return signable.Signable(
        record_type="sop",
        record_id=str(document.id),
        title=f"{document.code} rev {document.revision} “{document.title}”",
        content={
            "code": document.code,
            "title": document.title,
            "revision": document.revision,
            "body": document.body,
        },
        meanings={Meaning.READ_AND_UNDERSTOOD: frozenset()},
    )
