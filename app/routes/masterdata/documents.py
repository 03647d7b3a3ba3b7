"""Controlled documents (SOPs): list, revisions, writing a draft, review; signed through the
signing dialog (approved, read and understood)."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from app.models import DocumentRevision
from app.services.core.errors import Rejected
from app.services.esign import signatures
from app.services.masterdata import document_approval, documents
from app.web import act, db_session, go_to, plant_clock

bp = Blueprint("documents", __name__, url_prefix="/documents")


def _index(errors: Rejected | None = None) -> tuple[str, int]:
    return render_template(
        "masterdata/documents/index.html",
        documents=documents.list_documents(db_session()),
        can_author=documents.may_author(current_user),
        errors=errors,
        form=request.form if errors else {},
    ), 422 if errors else 200


def _page(
    document_id: int,
    revision_id: int | None = None,
    *,
    failed: str | None = None,
    errors: Rejected | None = None,
) -> tuple[str, int]:
    """A revision's page; after a refused form, that form keeps its input and its messages."""
    session = db_session()
    page = document_approval.revision_page(
        session, document_id=document_id, revision_id=revision_id
    )
    return render_template(
        "masterdata/documents/show.html",
        page=page,
        document=page.document,
        revision=page.revision,
        shown=signatures.signatures_for(
            session, record_type=documents.RECORD_TYPE, record_id=str(page.revision.id)
        ),
        can_author=documents.may_author(current_user),
        failed=failed,
        errors=errors,
        form=request.form if failed else {},
    ), 422 if errors else 200


def _revision_url(revision: DocumentRevision) -> str:
    return url_for("documents.revision", document_id=revision.document_id, revision_id=revision.id)


@bp.get("/")
@login_required
def index() -> tuple[str, int]:
    """All SOPs with the revision in force."""
    return _index()


@bp.post("/")
@login_required
def create() -> ResponseReturnValue:
    """A new document, its first revision a draft."""
    return act(
        lambda: documents.add_document(
            db_session(),
            actor=current_user,
            code=request.form.get("code", ""),
            title=request.form.get("title", ""),
            revision=request.form.get("revision", ""),
            body=request.form.get("body", ""),
            clock=plant_clock(),
        ),
        done=lambda revision: go_to(_revision_url(revision), "Document drafted.")(revision),
        refused=_index,
    )


@bp.get("/<int:document_id>")
@login_required
def show(document_id: int) -> tuple[str, int]:
    """One SOP on its effective revision (else the newest), with its signatures."""
    return _page(document_id)


@bp.get("/<int:document_id>/revisions/<int:revision_id>")
@login_required
def revision(document_id: int, revision_id: int) -> tuple[str, int]:
    """One revision of an SOP (old ones stay readable), with its signatures."""
    return _page(document_id, revision_id)


@bp.post("/<int:document_id>/revisions")
@login_required
def start_revision(document_id: int) -> ResponseReturnValue:
    """A new draft revision copied from the newest one."""
    return act(
        lambda: documents.start_revision(
            db_session(),
            actor=current_user,
            document_id=document_id,
            revision=request.form.get("revision", ""),
            clock=plant_clock(),
        ),
        done=lambda revision: go_to(_revision_url(revision), "New revision drafted.")(revision),
        refused=lambda exc: _page(document_id, failed="start", errors=exc),
    )


def _document_of(revision_id: int) -> int:
    return documents.get_revision(db_session(), revision_id).document_id


@bp.post("/revisions/<int:revision_id>/text")
@login_required
def edit(revision_id: int) -> ResponseReturnValue:
    """Change a draft's text (an author); a frozen revision is refused."""
    document_id = _document_of(revision_id)
    return act(
        lambda: documents.edit_draft(
            db_session(),
            actor=current_user,
            revision_id=revision_id,
            body=request.form.get("body", ""),
            change_note=request.form.get("change_note", ""),
            clock=plant_clock(),
        ),
        done=lambda revision: go_to(_revision_url(revision), "Draft saved.")(revision),
        refused=lambda exc: _page(document_id, revision_id, failed="edit", errors=exc),
    )


@bp.post("/revisions/<int:revision_id>/submit")
@login_required
def submit(revision_id: int) -> ResponseReturnValue:
    """Freeze a draft and send it to QA for approval."""
    document_id = _document_of(revision_id)
    return act(
        lambda: documents.submit_for_review(
            db_session(), actor=current_user, revision_id=revision_id, clock=plant_clock()
        ),
        done=lambda revision: go_to(_revision_url(revision), "Sent to review.")(revision),
        refused=lambda exc: _page(document_id, revision_id, failed="review", errors=exc),
    )


@bp.post("/revisions/<int:revision_id>/return")
@login_required
def return_to_draft(revision_id: int) -> ResponseReturnValue:
    """Send a revision in review back to draft, with a reason."""
    document_id = _document_of(revision_id)
    return act(
        lambda: documents.return_to_draft(
            db_session(),
            actor=current_user,
            revision_id=revision_id,
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        done=lambda revision: go_to(_revision_url(revision), "Returned to draft.")(revision),
        refused=lambda exc: _page(document_id, revision_id, failed="return", errors=exc),
    )
