"""Batches: a supervisor creates one from the effective master batch record, and approves an
excess issue of a material with a reason."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from app.forms import new_key, parse_date
from app.htmx import full_redirect
from app.models import Role
from app.services.core.errors import Rejected
from app.services.execution import batches, excess_issues
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


def _show(
    batch_no: str, form: Mapping[str, str] | None = None, errors: Rejected | None = None
) -> str:
    form = form or {}
    return render_template(
        "execution/batches/show.html",
        view=batches.load_batch(db_session(), batch_no),
        can_approve=current_user.has_role(Role.SUPERVISOR),
        form=form,
        errors=errors,
        key=form.get("key") or new_key(),  # a refused form keeps its key: nothing was recorded
    )


@bp.get("/<batch_no>")
@login_required
def show(batch_no: str) -> str:
    """The batch: its scaled BOM and the excess issue approvals given for it."""
    return _show(batch_no)


@bp.post("/<batch_no>/excess-approvals")
@login_required
def approve_excess(batch_no: str) -> ResponseReturnValue:
    """A supervisor approves issuing more of a material than its target and tolerance."""
    form = request.form

    def _do() -> Any:
        return excess_issues.approve_excess_issue(
            db_session(),
            actor=current_user,
            new=excess_issues.ExcessIssueIn(
                batch_no=batch_no,
                material_code=form.get("material", ""),
                quantity=form.get("quantity", ""),
                reason=form.get("reason", ""),
                key=form.get("key", ""),
            ),
            clock=plant_clock(),
        )

    def _refused(exc: Rejected) -> ResponseReturnValue:
        return _show(batch_no, form, exc), 422

    def _done(result: Any) -> ResponseReturnValue:
        _approval, again = result
        if again:
            flash("This approval was already recorded; nothing new was recorded.", "info")
        else:
            flash("Excess issue approved; the warehouse may now issue it.", "success")
        return full_redirect(url_for("batches.show", batch_no=batch_no.strip().upper()))

    return act(_do, done=_done, refused=_refused)
