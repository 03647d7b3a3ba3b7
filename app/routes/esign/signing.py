"""The signing dialog (one for every feature) and its two ways to finish: passkey or password."""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlsplit

from flask import Blueprint, Response, flash, render_template, request
from flask_login import current_user, login_required

from app.models import Meaning
from app.services.core.errors import (
    DomainError,
    PermissionDenied,
    Rejected,
    SignatureRefused,
    Violation,
)
from app.services.esign import signable, signatures, signers
from app.web import (
    commit,
    current_web_session_id,
    db_session,
    plant_clock,
    record_refusal,
    relying_party,
    render_error,
    rollback,
    safe_local_path,
    signing_policy,
)

bp = Blueprint("signing", __name__, url_prefix="/sign")


def _dialog(
    req: signatures.SigningRequest,
    *,
    error: str | None = None,
    errors: Rejected | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "esign/signing/_dialog.html",
        req=req,
        error=error,
        errors=errors,
        reason_codes=signatures.REASON_CODES,
        form=request.form,
    ), status


def _begin(
    record_type: str, record_id: str, meaning: str, form: Mapping[str, str]
) -> signatures.SigningRequest:
    return signatures.begin_signing(
        db_session(),
        signer=current_user,
        record_type=record_type,
        record_id=record_id,
        meaning=meaning,
        rp=relying_party(),
        policy=signing_policy(),
        clock=plant_clock(),
        web_session_id=current_web_session_id(),
        reason_code=form.get("reason_code"),
        reason_text=form.get("reason_text"),
    )


def _reason_step(
    record: tuple[str, str, str], errors: Rejected | None = None, status: int = 200
) -> tuple[str, int]:
    """First the reason (for a meaning that needs one): it is signed with the rest."""
    target, meaning = signatures.may_sign(
        db_session(), signer=current_user, record_type=record[0], record_id=record[1],
        meaning=record[2], clock=plant_clock(),
    )  # fmt: skip
    return render_template(
        "esign/signing/_reason.html",
        target=target,
        meaning=meaning,
        errors=errors,
        reason_codes=signatures.REASON_CODES,
        form=request.form,
    ), status


@bp.post("/start")
@login_required
def start() -> tuple[str, int]:
    """Open the dialog: what is being signed, in words, and with what meaning (and first the
    reason, when the meaning needs one)."""
    form = request.form
    record = (form.get("record_type", ""), form.get("record_id", ""), form.get("meaning", ""))
    try:
        if record[2] in signatures.MEANINGS_NEEDING_REASON and "reason_code" not in form:
            return _reason_step(record)
        return _dialog(_begin(*record, form))
    except PermissionDenied as refused:
        status = signers.status(db_session(), current_user, clock=plant_clock())
        if status.missing_step is None or record[0] == signers.ACKNOWLEDGEMENT:
            raise
        return _not_active_yet(refused, status)
    except Rejected as refused:
        rollback()
        return _reason_step(record, refused, 422)


def _not_active_yet(refused: PermissionDenied, status: signers.SignerStatus) -> tuple[str, int]:
    """Not a dead end: the one step missing before the first signature, with the way to it and
    back to this record afterwards. The refusal is kept in the audit trail like any other."""
    rollback()
    record_refusal(refused)
    commit()
    here = urlsplit(request.headers.get("HX-Current-URL", ""))
    back = safe_local_path(here.path + (f"?{here.query}" if here.query else ""))
    return render_template(
        "esign/signing/_not_active.html", status=status, back=back, refused=refused
    ), 403


@bp.post("/<int:challenge_id>")
@login_required
def finish(challenge_id: int) -> tuple[str, int] | Response:
    """Finish with the browser's passkey assertion, or the re-entered user ID and password."""
    form = request.form
    record = (form.get("record_type", ""), form.get("record_id", ""), form.get("meaning", ""))
    try:
        if form.get("method") == "passkey":
            try:
                credential = json.loads(form.get("credential") or "")
            except ValueError:
                raise Rejected(
                    [Violation("credential", "The passkey did not answer. Try again.")]
                ) from None
            signatures.sign_with_passkey(
                db_session(),
                signer=current_user,
                challenge_id=challenge_id,
                credential=credential,
                rp=relying_party(),
                policy=signing_policy(),
                clock=plant_clock(),
                web_session_id=current_web_session_id(),
            )
        else:
            signatures.sign_with_password(
                db_session(),
                signer=current_user,
                challenge_id=challenge_id,
                username=form.get("username", ""),
                password=form.get("password", ""),
                policy=signing_policy(),
                clock=plant_clock(),
                web_session_id=current_web_session_id(),
            )
    except (SignatureRefused, Rejected) as exc:
        # The failed attempt is kept (committed with this answer); offer a fresh ceremony.
        if isinstance(exc, Rejected):  # bad input: nothing was attempted, nothing to keep
            rollback()
        else:
            record_refusal(exc)
        try:
            again = _begin(*record, form)
        except DomainError as blocked:
            return render_error(f"{exc.message} {blocked.message}", blocked.status_code)
        if isinstance(exc, Rejected):
            return _dialog(again, errors=exc, status=422)
        return _dialog(again, error=exc.message, status=422)
    shown = signatures.signatures_for(db_session(), record_type=record[0], record_id=record[1])
    body = render_template(
        "esign/signing/_signed.html", shown=shown, record_type=record[0], record_id=record[1]
    )
    response = Response(body, status=200)
    response.headers["HX-Trigger"] = "record-signed"
    if signable.load(db_session(), record[0], record[1]).changes_page:
        flash(f"Signed: {Meaning(record[2]).label}.", "success")
        response.headers["HX-Refresh"] = "true"
    return response
