"""Devices: an admin registers a browser (e.g. a floor handheld) and marks it shared."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from app.models import Device
from app.routes.accounts.account import DEVICE_COOKIE, current_device
from app.services.core.actors import require_role
from app.services.esign import devices
from app.web import db_session, plant_clock

bp = Blueprint("devices", __name__, url_prefix="/devices")


@bp.get("/")
@login_required
def index() -> str:
    """Registered devices, and this browser's registration."""
    require_role(current_user, *devices.REGISTRARS, action="manage devices")
    registered = list(db_session().exec(select(Device).order_by(Device.name)))
    return render_template(
        "esign/devices/index.html", devices=registered, this_device=current_device()
    )


@bp.post("/")
@login_required
def register() -> Response:
    """Register this browser; the cookie identifies it from now on."""
    device, token = devices.register_device(
        db_session(),
        actor=current_user,
        name=request.form.get("name", ""),
        shared=request.form.get("shared") == "1",
        clock=plant_clock(),
    )
    flash(
        f"This browser is now registered as “{device.name}”{' (shared)' if device.shared else ''}.",
        "success",
    )
    response = redirect(url_for("devices.index"))
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=5 * 365 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response  # type: ignore[return-value]
