"""User administration (admin only; the services enforce it)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.htmx import full_redirect, wants_partial
from app.models import Role, User
from app.services.accounts import users, web_sessions
from app.services.core.actors import require_role
from app.services.core.errors import NotFound, Rejected
from app.services.esign import passkeys, signers
from app.web import act, db_session, plant_clock

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.get("/")
@login_required
def index() -> str:
    """All accounts, active first."""
    return render_template(
        "accounts/users/index.html", users=users.list_users(db_session(), viewer=current_user)
    )


@bp.get("/new")
@login_required
def new() -> str:
    """The new-user form."""
    require_role(current_user, *users.MANAGERS, action="create users")
    return render_template("accounts/users/new.html", form={}, errors=None, roles=list(Role))


@bp.post("/")
@login_required
def create() -> ResponseReturnValue:
    """Create an account; on bad input re-render the form with messages beside the fields."""
    form: dict[str, Any] = {
        "username": request.form.get("username", ""),
        "full_name": request.form.get("full_name", ""),
        "roles": request.form.getlist("roles"),
    }
    new = users.NewUser(
        form["username"], form["full_name"], tuple(form["roles"]), request.form.get("password", "")
    )

    def created(user: User) -> ResponseReturnValue:
        flash(f"User {user.username} created.", "success")
        return full_redirect(url_for("users.show", user_id=user.id))

    def refused(errors: Rejected) -> str:
        template = "accounts/users/_form.html" if wants_partial() else "accounts/users/new.html"
        return render_template(template, form=form, errors=errors, roles=list(Role))

    return act(
        lambda: users.create_user(db_session(), actor=current_user, new=new, clock=plant_clock()),
        done=created,
        refused=refused,
    )


def _show(user_id: int, **extra: object) -> str:
    require_role(current_user, *users.MANAGERS, action="manage users")
    session = db_session()
    user = users.get_user(session, user_id)
    return render_template(
        "accounts/users/show.html",
        user=user,
        roles=list(Role),
        esign=signers.status(session, user, clock=plant_clock()),
        keys=passkeys.list_passkeys(session, viewer=current_user, user_id=user_id),
        open_sessions=web_sessions.open_sessions(session, user_id=user_id),
        **extra,
    )


@bp.get("/<int:user_id>")
@login_required
def show(user_id: int) -> str:
    """One account with its admin actions."""
    return _show(user_id)


@bp.post("/<int:user_id>/identity-check")
@login_required
def identity_check(user_id: int) -> Response:
    """Record that the admin saw proof of this person's identity (before e-signing)."""
    signers.record_identity_check(
        db_session(),
        actor=current_user,
        user_id=user_id,
        document_type=request.form.get("document_type", ""),
        document_reference=request.form.get("document_reference", ""),
        clock=plant_clock(),
    )
    flash("Identity check recorded.", "success")
    return redirect(url_for("users.show", user_id=user_id))


@bp.post("/<int:user_id>/enrolment-link")
@login_required
def enrolment_link(user_id: int) -> str:
    """Issue a one-time passkey enrolment link, shown once to the admin to hand over."""
    link, token = passkeys.issue_enrolment_link(
        db_session(), actor=current_user, user_id=user_id, clock=plant_clock()
    )
    url = url_for("account.enrol", token=token, _external=True)
    return _show(user_id, enrolment_url=url, enrolment_expires=link.expires_at)


@bp.post("/<int:user_id>/unlock-signing")
@login_required
def unlock_signing(user_id: int) -> Response:
    """Lift a signing lock after repeated failed signings."""
    signers.unlock_signing(
        db_session(),
        actor=current_user,
        user_id=user_id,
        reason=request.form.get("reason", ""),
        clock=plant_clock(),
    )
    flash("Signing unlocked.", "success")
    return redirect(url_for("users.show", user_id=user_id))


@bp.post("/<int:user_id>/sessions/end")
@login_required
def end_sessions(user_id: int) -> ResponseReturnValue:
    """Sign a person out everywhere (a lost handheld, a login suspected to be shared)."""

    def ended(count: int) -> Response:
        flash(f"{count} session(s) ended; that person must sign in again.", "success")
        return full_redirect(url_for("users.show", user_id=user_id))

    return act(
        lambda: web_sessions.end_sessions_of(
            db_session(), actor=current_user, user_id=user_id, clock=plant_clock()
        ),
        done=ended,
    )


@bp.post("/<int:user_id>/password-signing")
@login_required
def password_signing(user_id: int) -> ResponseReturnValue:
    """Let a person with a passkey sign with user ID and password for some hours."""

    def allowed(user: User) -> Response:
        until = user.password_signing_until
        when = f"{plant_clock().local(until):%Y-%m-%d %H:%M %Z}" if until else "-"
        flash(f"{user.username} may sign with user ID and password until {when}.", "success")
        return full_redirect(url_for("users.show", user_id=user_id))

    return act(
        lambda: signers.allow_password_signing(
            db_session(),
            actor=current_user,
            user_id=user_id,
            hours=request.form.get("hours", ""),
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        done=allowed,
        refused=lambda errors: _show(user_id, password_errors=errors),
    )


_CHANGES = {
    "deactivate": ("deactivated", users.deactivate_user),
    "reactivate": ("reactivated", users.reactivate_user),
    "unlock": ("unlocked", users.unlock_user),
}


@bp.post("/<int:user_id>/<what>")
@login_required
def change(user_id: int, what: str) -> Response:
    """Change roles, deactivate, reactivate or unlock, each with a reason."""
    reason = request.form.get("reason")
    if what == "roles":
        user = users.set_roles(
            db_session(),
            actor=current_user,
            user_id=user_id,
            roles=request.form.getlist("roles"),
            reason=reason,
            clock=plant_clock(),
        )
        flash(f"Roles of {user.username} saved.", "success")
    elif what in _CHANGES:
        done, command = _CHANGES[what]
        user = command(
            db_session(), actor=current_user, user_id=user_id, reason=reason, clock=plant_clock()
        )
        flash(f"{user.username} {done}.", "success")
    else:
        raise NotFound(f"There is no account action called {what!r}.")
    return redirect(url_for("users.show", user_id=user_id))
