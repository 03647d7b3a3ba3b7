"""A person's own e-signing: status, acknowledgement, passkeys, and enrolment by one-time link."""

from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.models import Device
from app.services.core.errors import Rejected, Violation
from app.services.esign import devices, passkeys, signatures, signers
from app.web import db_session, plant_clock, relying_party, safe_local_path

bp = Blueprint("account", __name__)
DEVICE_COOKIE = "bb_device"


def current_device() -> Device | None:
    return devices.device_for_token(db_session(), request.cookies.get(DEVICE_COOKIE))


@bp.get("/account")
@login_required
def index() -> str:
    """My e-signing status and passkeys."""
    session = db_session()
    return render_template(
        "accounts/account/index.html",
        status=signers.status(session, current_user, clock=plant_clock()),
        keys=passkeys.list_passkeys(session, viewer=current_user, user_id=current_user.id),
        acknowledgement=signatures.signatures_for(
            session, record_type=signers.ACKNOWLEDGEMENT, record_id=str(current_user.id)
        ),
        ack_type=signers.ACKNOWLEDGEMENT,
        statement=signers.ACKNOWLEDGEMENT_STATEMENT,
        device=current_device(),
        back_to=safe_local_path(request.args.get("next")),
    )


@bp.post("/account/passkeys/<int:passkey_id>/revoke")
@login_required
def revoke(passkey_id: int) -> Response:
    """Revoke one of my passkeys (lost phone, broken key)."""
    key = passkeys.revoke_passkey(
        db_session(),
        actor=current_user,
        passkey_id=passkey_id,
        reason=request.form.get("reason", ""),
        clock=plant_clock(),
    )
    flash(f"Passkey “{key.name}” revoked; it can no longer sign or sign in.", "success")
    back = safe_local_path(request.form.get("back")) or url_for("account.index")
    return redirect(back)  # type: ignore[return-value]


@bp.get("/enrol/<token>")
@login_required
def enrol(token: str) -> str:
    """The enrolment page behind a one-time link (only its own user may open it)."""
    passkeys.redeemable_link(db_session(), token=token, user=current_user, clock=plant_clock())
    return render_template("accounts/account/enrol.html", token=token, device=current_device())


@bp.post("/enrol/<token>/options")
@login_required
def enrol_options(token: str) -> Response:
    """Creation options for the browser (JSON)."""
    start = passkeys.begin_registration(
        db_session(),
        user=current_user,
        token=token,
        device=current_device(),
        rp=relying_party(),
        clock=plant_clock(),
    )
    return jsonify(challenge_id=start.challenge_id, options=start.options)


@bp.post("/enrol/<token>/finish")
@login_required
def enrol_finish(token: str) -> Response:
    """Verify and store the new passkey (JSON in, JSON out)."""
    body = request.get_json(silent=True) or {}
    if not isinstance(body.get("credential"), dict) or not isinstance(
        body.get("challenge_id"), int
    ):
        raise Rejected([Violation("credential", "The browser sent no passkey. Try again.")])
    key = passkeys.finish_registration(
        db_session(),
        user=current_user,
        token=token,
        challenge_id=body["challenge_id"],
        credential=body["credential"],
        name=str(body.get("name", "")),
        device=current_device(),
        rp=relying_party(),
        clock=plant_clock(),
    )
    flash(f"Passkey “{key.name}” enrolled.", "success")
    return jsonify(redirect=url_for("account.index"))
