"""Approval of a document revision by signature, and what a document's signatures cover.

A revision in review is approved by a QA person other than its author through the signing
service; the approval makes it effective and supersedes the revision in force before. People
sign the effective revision as read and understood. Both signatures cover the same content
(code, title, revision label, text), which never changes once the revision left draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.models import (
    AuditEvent,
    Document,
    DocumentRevision,
    Meaning,
    RevisionStatus,
    Role,
    Signature,
    User,
)
from app.services.core.actors import Actor, SystemActor
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, PermissionDenied, Violation, require
from app.services.core.text import read_text
from app.services.esign import signable
from app.services.masterdata.documents import (
    RECORD_TYPE,
    get_document,
    get_revision,
    locked_revision,
    revisions_of,
    shown_revision,
    transition,
)

PAPER = "Approved outside the system"
APPROVERS = frozenset({Role.QA})  # who approves a revision by signature


def revisions_to_approve(session: Session, user: User) -> list[str]:
    """The document revisions in review that wait for `user`'s approval ("SOP-QA-001 rev 4"),
    oldest first, in one query: those they did not write (an author never approves their own)."""
    if not (user.active and user.has_role(*APPROVERS)):
        return []
    rows = session.exec(
        select(Document.code, DocumentRevision.revision)
        .join(DocumentRevision, col(DocumentRevision.document_id) == Document.id)
        .where(DocumentRevision.status == RevisionStatus.IN_REVIEW.value)
        .where(
            col(DocumentRevision.created_by_id).is_(None)
            | (col(DocumentRevision.created_by_id) != user.id)
        )
        .order_by(col(DocumentRevision.submitted_at), col(DocumentRevision.id))
    )
    return [f"{code} rev {revision}" for code, revision in rows]


def approval_of(session: Session, revision: DocumentRevision) -> Signature | None:
    """The approval signature that made this revision effective (None: not approved in the
    system, e.g. in force before revision control)."""
    return session.exec(
        select(Signature)
        .where(Signature.record_type == RECORD_TYPE, Signature.record_id == str(revision.id))
        .where(Signature.meaning == Meaning.APPROVED.value)
        .order_by(col(Signature.id).desc())
    ).first()


def paper_approval(session: Session, revision: DocumentRevision) -> str | None:
    """The reference of a paper approval, if this revision came in that way."""
    event = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.entity_type == RECORD_TYPE,
            AuditEvent.entity_id == str(revision.id),
            AuditEvent.action == "document.effective",
        )
        .order_by(col(AuditEvent.id).desc())
    ).first()
    if event is None or not (event.reason or "").startswith(PAPER):
        return None
    return event.reason


def _make_effective(
    session: Session,
    revision: DocumentRevision,
    *,
    actor: Actor,
    clock: Clock,
    reason: str | None = None,
) -> None:
    previous = session.exec(
        select(DocumentRevision)
        .where(DocumentRevision.document_id == revision.document_id)
        .where(DocumentRevision.status == RevisionStatus.EFFECTIVE)
        .with_for_update()
    ).first()
    if previous is not None:
        transition(
            session, actor, previous, RevisionStatus.SUPERSEDED, "superseded",
            by=revision.revision, clock=clock,
        )  # fmt: skip
    transition(
        session, actor, revision, RevisionStatus.EFFECTIVE, "effective", reason=reason,
        clock=clock,
    )  # fmt: skip


def approve_outside_the_system(
    session: Session, *, actor: Actor, revision_id: int, reference: str, clock: Clock
) -> DocumentRevision:
    """Bring in a revision approved on paper before go-live (a plant's migration; the demo's
    documents are approved by signature).

    Only the system actor may do this, with the paper approval's reference; the audit trail and
    the revision page say so plainly. People approve through signatures.

    Raises:
        PermissionDenied: called for a person. Rejected: no reference, or not in review.
    """
    if not isinstance(actor, SystemActor):
        raise PermissionDenied("Documents are approved by signature; only migration uses paper.")
    revision = locked_revision(session, revision_id)
    problems: list[Violation] = []
    if revision.status != RevisionStatus.IN_REVIEW:
        problems.append(Violation("revision.status", "Send the revision to review first."))
    reference = read_text(
        reference, field="reference", label="paper approval's reference", problems=problems,
        limit=200, required=True, empty="Give the paper approval's reference.",
    )  # fmt: skip
    require(problems)
    _make_effective(session, revision, actor=actor, clock=clock, reason=f"{PAPER}: {reference}")
    return revision


def _rules(revision_id: int) -> signable.Rules:
    def rules(session: Session, signer: User, meaning: Meaning, _clock: Clock) -> list[Violation]:
        revision = get_revision(session, revision_id)
        status = RevisionStatus(revision.status)
        if meaning == Meaning.READ_AND_UNDERSTOOD and status != RevisionStatus.EFFECTIVE:
            return [
                Violation(
                    "revision.status",
                    f"Revision {revision.revision} is {status.label.lower()}; only the "
                    "effective revision is signed as read and understood.",
                )
            ]
        if meaning != Meaning.APPROVED:
            return []
        if status != RevisionStatus.IN_REVIEW:
            return [
                Violation(
                    "revision.status",
                    f"Revision {revision.revision} is {status.label.lower()}; only a revision "
                    "in review is approved.",
                )
            ]
        if revision.created_by_id is not None and signer.id == revision.created_by_id:
            return [
                Violation(
                    "revision.own",
                    "You wrote this revision; a different QA person must approve it.",
                )
            ]
        return []

    return rules


def _after_signing(session: Session, signature: Signature, clock: Clock) -> None:
    """The approval makes the revision effective and supersedes the one in force before."""
    if signature.meaning != Meaning.APPROVED:
        return
    revision = get_revision(session, int(signature.record_id))
    signer = session.get(User, signature.signer_id)
    assert signer is not None
    _make_effective(session, revision, actor=signer, clock=clock)


@signable.register(RECORD_TYPE)
def _load_signable(session: Session, record_id: str) -> signable.Signable:
    try:
        revision = get_revision(session, int(record_id))
    except ValueError:
        raise NotFound(f"There is no document revision {record_id!r}.") from None
    document: Document = get_document(session, revision.document_id)
    return signable.Signable(
        record_type=RECORD_TYPE,
        record_id=str(revision.id),
        title=f"{document.code} rev {revision.revision} “{document.title}”",
        # The same content the signatures made before revision control covered.
        content={
            "code": document.code,
            "title": document.title,
            "revision": revision.revision,
            "body": revision.body,
        },
        state={"status": revision.status},
        meanings={
            Meaning.READ_AND_UNDERSTOOD: frozenset(),
            Meaning.APPROVED: APPROVERS,
        },
        rules=_rules(revision.id),  # type: ignore[arg-type]
        after_signing=_after_signing,
        # An approval moves the revision on (effective, superseding the last): reload its page.
        # A read-and-understood signature only adds itself to the list, in place.
        changes_page=revision.status == RevisionStatus.IN_REVIEW,
        lock=lambda s: locked_revision(s, revision.id),  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class RevisionPage:
    """What a revision's page shows: the document, every revision, this one, and how it came
    into force (the approval signature, or a paper reference)."""

    document: Document
    revisions: list[DocumentRevision]
    revision: DocumentRevision
    approval: Signature | None
    paper: str | None

    @property
    def status(self) -> RevisionStatus:
        return RevisionStatus(self.revision.status)

    @property
    def open(self) -> DocumentRevision | None:
        """The revision being written or reviewed, if any (a new one cannot start meanwhile)."""
        return next(
            (
                r
                for r in self.revisions
                if r.status in (RevisionStatus.DRAFT, RevisionStatus.IN_REVIEW)
            ),
            None,
        )


def revision_page(
    session: Session, *, document_id: int, revision_id: int | None = None
) -> RevisionPage:
    """A document's page on one revision (without one: the effective revision, else the newest).

    Raises:
        NotFound: no such document, or the revision is not one of its.
    """
    document = get_document(session, document_id)
    revisions = revisions_of(session, document_id)
    if revision_id is None:
        revision = shown_revision(revisions)
    else:
        found = [r for r in revisions if r.id == revision_id]
        if not found:
            raise NotFound(f"{document.code} has no revision with id {revision_id}.")
        revision = found[0]
    return RevisionPage(
        document=document,
        revisions=revisions,
        revision=revision,
        approval=approval_of(session, revision),
        paper=paper_approval(session, revision),
    )
