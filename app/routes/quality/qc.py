"""QC evidence on the lot page: sample, results, certificates of analysis (and their files)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from app.htmx import full_redirect, wants_partial
from app.models import Lot
from app.services.core.errors import Rejected
from app.services.quality import qc
from app.services.warehouse import ledger
from app.web import act, db_session, plant_clock

bp = Blueprint("qc", __name__, url_prefix="/lots/<lot_code>/qc")


def evidence_context(lot: Lot) -> dict[str, Any]:
    """What the lot page's QC evidence section shows (also used by the lot page itself)."""
    session = db_session()
    return {
        "evidence": qc.evidence(session, lot),
        "evidence_actions": qc.evidence_actions(lot, current_user),
        "qc_lot": lot,
    }


def _section(lot_code: str, errors: Rejected, failed: str) -> ResponseReturnValue:
    """The evidence section again with the refusal beside the form that was sent; without htmx,
    the whole lot page."""
    if wants_partial():
        return render_template(
            "warehouse/lots/_qc.html",
            errors=errors,
            failed=failed,
            form=request.form,
            **evidence_context(ledger.get_lot(db_session(), lot_code)),
        ), 422
    from app.routes.warehouse.lots import lot_page

    return lot_page(lot_code, qc_errors=errors, qc_failed=failed), 422


def _recorded(lot_code: str, message: str) -> Callable[[object], Response]:
    def done(_result: object) -> Response:
        flash(message, "success")
        return full_redirect(url_for("lots.show", lot_code=lot_code))

    return done


@bp.post("/sample")
@login_required
def sample(lot_code: str) -> ResponseReturnValue:
    return act(
        lambda: qc.take_sample(
            db_session(),
            actor=current_user,
            lot_code=lot_code,
            containers=request.form.get("containers", ""),
            note=request.form.get("note", ""),
            clock=plant_clock(),
        ),
        done=_recorded(lot_code, "Sample recorded."),
        refused=lambda exc: _section(lot_code, exc, "sample"),
    )


@bp.post("/result")
@login_required
def result(lot_code: str) -> ResponseReturnValue:
    form = request.form
    return act(
        lambda: qc.record_result(
            db_session(),
            actor=current_user,
            lot_code=lot_code,
            spec_test_id=form.get("spec_test_id", ""),
            value=form.get("value", ""),
            source=form.get("source", "lab"),
            certificate_id=form.get("certificate_id", ""),
            reason=form.get("reason", ""),
            clock=plant_clock(),
        ),
        done=_recorded(lot_code, "Result recorded."),
        refused=lambda exc: _section(lot_code, exc, "result"),
    )


@bp.post("/certificate")
@login_required
def attach_certificate(lot_code: str) -> ResponseReturnValue:
    upload = request.files.get("certificate")
    return act(
        lambda: qc.attach_certificate(
            db_session(),
            actor=current_user,
            lot_code=lot_code,
            filename=upload.filename or "" if upload else "",
            data=upload.read(qc.MAX_CERTIFICATE_BYTES + 1) if upload else b"",
            clock=plant_clock(),
        ),
        done=_recorded(lot_code, "Certificate attached."),
        refused=lambda exc: _section(lot_code, exc, "certificate"),
    )


@bp.get("/certificate/<certificate_id>")
@login_required
def certificate(lot_code: str, certificate_id: str) -> Response:
    """The certificate as it was attached (a download: never rendered as a page of ours)."""
    kept = qc.get_certificate(db_session(), lot_code, certificate_id)
    response = Response(kept.content, mimetype=kept.content_type)
    safe = "".join(
        c if c.isascii() and (c.isalnum() or c in " ._-") else "_" for c in kept.filename
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["X-Certificate-SHA256"] = kept.sha256
    return response
