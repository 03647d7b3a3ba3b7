"""Controlled documents (SOPs), signed as read and understood."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.services.esign import signatures
from app.services.masterdata import documents
from app.web import db_session, plant_clock

bp = Blueprint("documents", __name__, url_prefix="/documents")


@bp.get("/")
@login_required
def index() -> str:
    """All SOPs."""
    return render_template(
        "masterdata/documents/index.html", documents=documents.list_documents(db_session())
    )


@bp.get("/<int:document_id>")
@login_required
def show(document_id: int) -> str:
    """One SOP with its signatures."""
    session = db_session()
    document = documents.get_document(session, document_id)
    return render_template(
        "masterdata/documents/show.html",
        document=document,
        shown=signatures.signatures_for(session, record_type="sop", record_id=str(document.id)),
        can_edit=documents.may_edit(current_user),
    )


@bp.post("/<int:document_id>/edit")
@login_required
def edit(document_id: int) -> Response:
    """Change the text (admin); earlier signatures then show as no longer valid."""
    documents.edit_document(
        db_session(),
        actor=current_user,
        document_id=document_id,
        body=request.form.get("body", ""),
        reason=request.form.get("reason"),
        clock=plant_clock(),
    )
    flash("Document changed. Earlier signatures on it are no longer valid.", "success")
    return redirect(url_for("documents.show", document_id=document_id))  # type: ignore[return-value]
