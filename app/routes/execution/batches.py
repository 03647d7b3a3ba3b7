"""Batches: a supervisor creates one from the effective master batch record."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from app.forms import parse_date
from app.htmx import full_redirect
from app.services.core.errors import Rejected
from app.services.execution import batches
from app.services.mbr import reading
from app.web import act, db_session, plant_clock

bp = Blueprint("batches", __name__, url_prefix="/batches")


def _index(form: object, errors: Rejected | None = None) -> str:
    session = db_session()
    return render_template(
        "execution/batches/index.html",
        items=batches.list_batches(session),
        recipes=[r for r, _ in reading.list_recipes(session)],
        form=form,
        errors=errors,
    )


@bp.get("/")
@login_required
def index() -> str:
    return _index({})


@bp.post("/")
@login_required
def create() -> ResponseReturnValue:
    form = request.form

    def _do() -> Any:
        batch = batches.create_batch(
            db_session(),
            actor=current_user,
            new=batches.BatchIn(
                recipe_code=form.get("recipe", ""),
                batch_no=form.get("batch_no", ""),
                planned=form.get("planned", ""),
                customer_po=form.get("customer_po", ""),
                due_date=parse_date(
                    form.get("due_date", ""), "due_date", "due date", required=False
                ),
            ),
            clock=plant_clock(),
        )
        return batch

    def _refused(exc: Rejected) -> ResponseReturnValue:
        return _index(form, exc), 422

    def _done(batch: Any) -> ResponseReturnValue:
        flash(f"Batch {batch.batch_no} created; its bill of materials is scaled.", "success")
        return full_redirect(url_for("batches.show", batch_no=batch.batch_no))

    return act(_do, done=_done, refused=_refused)


@bp.get("/<batch_no>")
@login_required
def show(batch_no: str) -> str:
    return render_template(
        "execution/batches/show.html", view=batches.load_batch(db_session(), batch_no)
    )
