"""The audit trail, filterable by entity and by user."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_login import current_user, login_required

from app.services.core import audit, history, spreadsheet
from app.web import db_session

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _filter(limit: int = 200) -> audit.AuditFilter:
    return audit.AuditFilter(
        entity_type=request.args.get("entity_type") or None,
        entity_id=request.args.get("entity_id") or None,
        username=request.args.get("user") or None,
        limit=limit,
    )


@bp.get("/")
@login_required
def index() -> str:
    """Newest events first, each in a sentence; filters come from the query string."""
    flt = _filter()
    events = audit.list_events(db_session(), viewer=current_user, flt=flt)
    return render_template(
        "core/audit/index.html",
        events=history.tell(db_session(), events),
        flt=flt,
        entity_types=audit.entity_types(db_session()),
    )


EXPORT_COLUMNS = (
    "id",
    "occurred_at",
    "actor_username",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
    "reason",
    "prev_hash",
    "row_hash",
)


@bp.get("/export.csv")
@login_required
def export_csv() -> Response:
    """The filtered events as CSV (one value per cell, ISO UTC times), for inspectors."""
    events = audit.list_events(db_session(), viewer=current_user, flt=_filter(limit=100_000))
    rows = (
        [e.occurred_at.isoformat() if c == "occurred_at" else getattr(e, c) for c in EXPORT_COLUMNS]
        for e in reversed(events)
    )
    response = Response(spreadsheet.csv_text(EXPORT_COLUMNS, rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="batchbook-audit.csv"'
    return response
