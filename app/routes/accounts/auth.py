"""Sign in and sign out."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.services.accounts import auth, web_sessions
from app.services.core.errors import Rejected, Violation
from app.services.esign import passkeys
from app.web import (
    begin_signed_in_session,
    db_session,
    end_signed_in_session,
    plant_clock,
    relying_party,
    safe_local_path,
    settings,
)

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    return safe_local_path(target) or url_for("home.index")


@bp.get("/login")
def login() -> str | Response:
    """The sign-in page."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    return render_template("accounts/auth/login.html", next=request.args.get("next", ""))


@bp.post("/login")
def login_post() -> tuple[str, int] | Response:
    """Check the password; on success start a fresh session."""
    s = settings()
    result = auth.sign_in(
        db_session(),
        username=request.form.get("username", ""),
        password=request.form.get("password", ""),
        policy=auth.LockoutPolicy(s.login_max_failures, s.login_lock_seconds),
        clock=plant_clock(),
    )
    if result.user is None:
        # The failed attempt (and any lock) is committed with this 401: it must be kept.
        return render_template(
            "accounts/auth/login.html",
            error=result.message,
            username=request.form.get("username", ""),
            next=request.form.get("next", ""),
        ), 401
    begin_signed_in_session(result.user)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
@login_required
def logout() -> Response:
    """End the session."""
    auth.sign_out(
        db_session(), user=current_user._get_current_object(), expired=False, clock=plant_clock()
    )
    end_signed_in_session(web_sessions.SIGNED_OUT)
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.post("/login/passkey/options")
def passkey_options() -> Response:
    """Start a usernameless passkey sign-in (JSON)."""
    challenge_id, options = passkeys.begin_login(
        db_session(), rp=relying_party(), clock=plant_clock()
    )
    return jsonify(challenge_id=challenge_id, options=options)


@bp.post("/login/passkey/finish")
def passkey_finish() -> Response:
    """Verify the passkey and start a fresh session (JSON)."""
    body = request.get_json(silent=True) or {}
    if not isinstance(body.get("credential"), dict) or not isinstance(
        body.get("challenge_id"), int
    ):
        raise Rejected([Violation("credential", "The browser sent no passkey. Try again.")])
    s = settings()
    user = passkeys.finish_login(
        db_session(),
        challenge_id=body["challenge_id"],
        credential=body["credential"],
        rp=relying_party(),
        policy=auth.LockoutPolicy(s.login_max_failures, s.login_lock_seconds),
        clock=plant_clock(),
    )
    begin_signed_in_session(user)
    return jsonify(redirect=_safe_next(body.get("next")))
