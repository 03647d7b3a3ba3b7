"""Each role's home page."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.services.accounts import home
from app.services.esign import signers
from app.web import db_session, plant_clock

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index() -> str:
    """The signed-in user's home: the work of each of their roles."""
    return render_template(
        "core/home/index.html",
        panels=home.panels_for(current_user),
        alerts=home.alerts_for(db_session(), current_user),
    )


@bp.post("/alerts/<int:alert_id>/acknowledge")
@login_required
def acknowledge_alert(alert_id: int) -> Response:
    """An admin confirms they have seen a security alert."""
    signers.acknowledge_alert(
        db_session(), actor=current_user, alert_id=alert_id, clock=plant_clock()
    )
    return redirect(url_for("home.index"))  # type: ignore[return-value]
