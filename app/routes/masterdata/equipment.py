"""Equipment: status at a glance, history, calibration and cleaning records, service state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from app.forms import parse_date, parse_local_datetime
from app.htmx import full_redirect, wants_partial
from app.models import EquipmentKind
from app.routes.masterdata.materials import import_page
from app.services.core.errors import Rejected
from app.services.masterdata import equipment
from app.web import act, db_session, go_to, plant_clock, settings

bp = Blueprint("equipment", __name__, url_prefix="/equipment")


def _equipment_in(form: MultiDict[str, str]) -> equipment.EquipmentIn:
    return equipment.EquipmentIn(
        code=form.get("code", ""),
        name=form.get("name", ""),
        kind=form.get("kind", ""),
        needs_cleaning=form.get("needs_cleaning") == "on",
        clean_hold_hours=form.get("clean_hold_hours", ""),
    )


@bp.get("/")
@login_required
def index() -> str:
    """Every piece of equipment with its status in colour and words."""
    return render_template(
        "masterdata/equipment/index.html",
        items=equipment.list_with_status(db_session(), clock=plant_clock()),
    )


@bp.get("/new")
@login_required
def new() -> str:
    form = {"needs_cleaning": "on", "clean_hold_hours": "72"}
    return render_template(
        "masterdata/equipment/new.html", form=form, errors=None, kinds=list(EquipmentKind)
    )


@bp.post("/")
@login_required
def create() -> ResponseReturnValue:
    def _do() -> Any:
        item = equipment.create_equipment(
            db_session(), actor=current_user, new=_equipment_in(request.form), clock=plant_clock()
        )
        return item

    def _refused(exc: Rejected) -> ResponseReturnValue:
        template = (
            "masterdata/equipment/_form.html"
            if wants_partial()
            else "masterdata/equipment/new.html"
        )
        return render_template(
            template, form=request.form, errors=exc, kinds=list(EquipmentKind)
        ), 422

    def _done(item: Any) -> ResponseReturnValue:
        flash(f"Equipment {item.code} created. Record its calibration before use.", "success")
        return full_redirect(url_for("equipment.show", equipment_id=item.id))

    return act(_do, done=_done, refused=_refused)


def _show(
    equipment_id: int, failed: str | None = None, errors: Rejected | None = None
) -> ResponseReturnValue:
    session = db_session()
    item = equipment.get_equipment(session, equipment_id)
    page = render_template(
        "masterdata/equipment/show.html",
        item=item,
        status=equipment.get_status(session, equipment_id, clock=plant_clock()),
        calibrations=equipment.calibrations(session, equipment_id),
        cleanings=equipment.cleanings(session, equipment_id),
        failed=failed,
        errors=errors,
        form=request.form if failed else {},
        kinds=list(EquipmentKind),
    )
    return (page, 422) if errors else page


def _act(
    equipment_id: int, failed: str, action: Callable[[], object], done: str
) -> ResponseReturnValue:
    """Run one command; on refusal show the page again with the messages beside the form."""
    return act(
        action,
        done=go_to(url_for("equipment.show", equipment_id=equipment_id), done),
        refused=lambda exc: _show(equipment_id, failed, exc),
    )


@bp.get("/<int:equipment_id>")
@login_required
def show(equipment_id: int) -> ResponseReturnValue:
    return _show(equipment_id)


@bp.post("/<int:equipment_id>/calibrations")
@login_required
def calibrate(equipment_id: int) -> ResponseReturnValue:
    form = request.form
    return _act(
        equipment_id,
        "calibration",
        lambda: equipment.record_calibration(
            db_session(),
            actor=current_user,
            equipment_id=equipment_id,
            certificate=form.get("certificate", ""),
            performed_on=parse_date(
                form.get("performed_on", ""), "performed_on", "calibration date"
            ),  # type: ignore[arg-type]
            due_on=parse_date(form.get("due_on", ""), "due_on", "next due date"),  # type: ignore[arg-type]
            note=form.get("note", ""),
            clock=plant_clock(),
        ),
        "Calibration recorded.",
    )


@bp.post("/<int:equipment_id>/cleanings")
@login_required
def clean(equipment_id: int) -> ResponseReturnValue:
    form = request.form
    return _act(
        equipment_id,
        "cleaning",
        lambda: equipment.record_cleaning(
            db_session(),
            actor=current_user,
            equipment_id=equipment_id,
            cleaned_at=parse_local_datetime(
                form.get("cleaned_at", ""), "cleaned_at", "cleaning time", settings().plant_tz
            ),
            last_product=form.get("last_product", ""),
            note=form.get("note", ""),
            clock=plant_clock(),
        ),
        "Cleaning recorded.",
    )


@bp.post("/<int:equipment_id>/service")
@login_required
def service(equipment_id: int) -> ResponseReturnValue:
    in_service = request.form.get("in_service") == "1"
    return _act(
        equipment_id,
        "service",
        lambda: equipment.set_in_service(
            db_session(),
            actor=current_user,
            equipment_id=equipment_id,
            in_service=in_service,
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        "Back in service." if in_service else "Taken out of service.",
    )


@bp.post("/<int:equipment_id>/edit")
@login_required
def edit(equipment_id: int) -> ResponseReturnValue:
    return _act(
        equipment_id,
        "edit",
        lambda: equipment.update_equipment(
            db_session(),
            actor=current_user,
            equipment_id=equipment_id,
            new=_equipment_in(request.form),
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        "Equipment saved.",
    )


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_csv() -> ResponseReturnValue:
    """Load equipment from an ERP's CSV export."""
    return import_page("equipment")
