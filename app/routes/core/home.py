"""Each role's home page."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.services.accounts import home
from app.services.esign import signers
from app.web import db_session, plant_clock, signing_policy

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index() -> str:
    """The signed-in user's home: what needs them now, then the menu of their roles."""
    page = home.home_page(db_session(), current_user, clock=plant_clock(), policy=signing_policy())
    return render_template("core/home/index.html", page=page)


@bp.post("/alerts/<int:alert_id>/acknowledge")
@login_required
def acknowledge_alert(alert_id: int) -> Response:
    """An admin confirms they have seen a security alert."""
    signers.acknowledge_alert(
        db_session(), actor=current_user, alert_id=alert_id, clock=plant_clock()
    )
    return redirect(url_for("home.index"))  # type: ignore[return-value]
