"""Batches: a supervisor checks the scaled bill of materials of a new batch and creates it from
the effective master batch record, cancels a planned one with a reason, and approves an excess
issue of a material with a reason; starts, holds and resumes a batch; shows each of its steps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from app.forms import new_key, parse_date
from app.htmx import full_redirect, wants_partial
from app.models import Role
from app.services.core.errors import Rejected
from app.services.esign import signatures
from app.services.execution import batches, capture, excess_issues, gates, planning, record
from app.web import act, db_session, go_to, plant_clock

bp = Blueprint("batches", __name__, url_prefix="/batches")


def _batch_in(form: Mapping[str, str]) -> planning.BatchIn:
    return planning.BatchIn(
        recipe_code=form.get("recipe", ""),
        batch_no=form.get("batch_no", ""),
        planned=form.get("planned", ""),
        customer_po=form.get("customer_po", ""),
        due_date=parse_date(form.get("due_date", ""), "due_date", "due date", required=False),
    )


def _index(
    form: Mapping[str, str],
    errors: Rejected | None = None,
    plan: planning.BatchPlan | None = None,
) -> str:
    session = db_session()
    new = planning.new_batch_form(session, form)
    return render_template(
        "execution/batches/index.html",
        items=batches.list_batches(session),
        may_create=planning.may_create_batch(current_user),
        new=new,
        errors=errors or new.errors,
        plan=plan,
    )


@bp.get("/")
@login_required
def index() -> str:
    """The batches, and the "New batch" form for those who may create one; `?recipe=` opens it
    with the recipe's nominal size filled in. The recipe select asks htmx for the form alone."""
    if wants_partial():
        new = planning.new_batch_form(db_session(), request.args)
        return render_template("execution/batches/_new.html", new=new, errors=new.errors)
    return _index(request.args)


@bp.post("/check")
@login_required
def check() -> ResponseReturnValue:
    """The batch as it would be created, its bill of materials scaled: confirm or change it."""
    form = request.form
    return act(
        lambda: planning.check_batch(
            db_session(), actor=current_user, new=_batch_in(form), clock=plant_clock()
        ),
        done=lambda plan: _index(form, plan=plan),
        refused=lambda exc: (_index(form, exc), 422),
    )


@bp.post("/")
@login_required
def create() -> ResponseReturnValue:
    """Create the batch that was checked (every rule checked again)."""
    form = request.form

    def _do() -> Any:
        return batches.create_batch(
            db_session(), actor=current_user, new=_batch_in(form), clock=plant_clock()
        )

    def _refused(exc: Rejected) -> ResponseReturnValue:
        return _index(form, exc), 422

    def _done(batch: Any) -> ResponseReturnValue:
        flash(f"Batch {batch.batch_no} created; its bill of materials is scaled.", "success")
        return full_redirect(url_for("batches.show", batch_no=batch.batch_no))

    return act(_do, done=_done, refused=_refused)


def _show(
    batch_no: str,
    form: Mapping[str, str] | None = None,
    errors: Rejected | None = None,
    cancel_reason: str = "",
    cancel_errors: Rejected | None = None,
    move_errors: Rejected | None = None,
) -> str:
    form = form or {}
    session = db_session()
    view = batches.load_batch(session, batch_no)
    return render_template(
        "execution/batches/show.html",
        view=view,
        steps=record.steps(session, view.batch),
        may_steer=record.may_steer(current_user),
        move_errors=move_errors,
        moves=record.MOVES,
        can_approve=current_user.has_role(Role.SUPERVISOR),
        may_cancel=batches.may_cancel(current_user, view.batch),
        form=form,
        errors=errors,
        cancel_reason=cancel_reason,
        cancel_errors=cancel_errors,
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


@bp.post("/<batch_no>/cancel")
@login_required
def cancel(batch_no: str) -> ResponseReturnValue:
    """A supervisor cancels a planned batch nothing is issued to, with a reason."""
    form = request.form

    def _done(batch: Any) -> ResponseReturnValue:
        flash(f"Batch {batch.batch_no} cancelled; nothing is picked or issued for it.", "success")
        return full_redirect(url_for("batches.show", batch_no=batch.batch_no))

    def _refused(exc: Rejected) -> ResponseReturnValue:
        return _show(batch_no, cancel_reason=form.get("reason", ""), cancel_errors=exc), 422

    return act(
        lambda: batches.cancel_batch(
            db_session(),
            actor=current_user,
            batch_no=batch_no,
            reason=form.get("reason", ""),
            clock=plant_clock(),
        ),
        done=_done,
        refused=_refused,
    )


@bp.post("/<batch_no>/<move>")
@login_required
def move(batch_no: str, move: str) -> ResponseReturnValue:
    """A supervisor starts a planned batch, or holds and resumes a running one with a reason."""
    if move not in record.MOVES:
        abort(404)
    words = {"started": "started", "held": "put on hold", "resumed": "resumed"}[move]
    return act(
        lambda: record.move_batch(
            db_session(),
            actor=current_user,
            batch_no=batch_no,
            move=move,
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        done=lambda batch: go_to(
            url_for("batches.show", batch_no=batch.batch_no), f"Batch {batch.batch_no} {words}."
        )(batch),
        refused=lambda exc: (_show(batch_no, move_errors=exc), 422),
    )


@bp.get("/<batch_no>/steps/<code>")
@login_required
def step(batch_no: str, code: str) -> str:
    """One step of the executed record: its instruction, what it needs, what it captured and
    its signatures."""
    return _step_page(batch_no, code)


def _step_page(
    batch_no: str,
    code: str,
    *,
    errors: Rejected | None = None,
    scanned: str = "",
    scanned_for: str = "",
    form: Mapping[str, str] | None = None,
) -> str:
    session = db_session()
    batch = batches.get_batch(session, batch_no)
    views = record.steps(session, batch)
    view = record.find_step(views, batch, code)
    return render_template(
        "execution/batches/step.html",
        batch=batch,
        view=view,
        waiting=record.sequence_problems(views, view.execution),
        entries=record.entries(session, view.execution.id),  # type: ignore[arg-type]
        evidence_of=capture.evidence_of,
        errors=errors,
        scanned=scanned,
        scanned_for=scanned_for,
        form=form or {},
        key=(form or {}).get("key") or new_key(),  # a refused form keeps its key
        new_key=new_key,  # each other form its own
        materials=gates.step_lines(view.step, gates.load_batch_context(session, batch).lines),
        shown=signatures.signatures_for(
            session, record_type=record.RECORD_TYPE, record_id=str(view.execution.id)
        ),
    )


CAPTURES = {"equipment": capture.record_equipment, "lot": capture.record_lot}


@bp.post("/<batch_no>/steps/<code>/<what>")
@login_required
def record_scan(batch_no: str, code: str, what: str) -> ResponseReturnValue:
    """The equipment or lot scanned at a step: recorded with its gates' evidence, or refused
    beside the scan field with every reason."""
    if what not in CAPTURES:
        abort(404)
    scanned = request.form.get(what, "")
    return act(
        lambda: CAPTURES[what](
            db_session(), actor=current_user, batch_no=batch_no, code=code, scanned=scanned,
            clock=plant_clock(), key=request.form.get("key", ""),
        ),
        done=lambda entry: go_to(
            url_for("batches.step", batch_no=batch_no, code=code),
            f"{entry.subject} recorded: every check passed.",
        )(entry),
        refused=lambda exc: (
            _step_page(
                batch_no, code, errors=exc, scanned=scanned, scanned_for=what, form=request.form
            ),
            422,
        ),
    )  # fmt: skip


@bp.post("/<batch_no>/steps/<code>/weight")
@login_required
def record_weight(batch_no: str, code: str) -> ResponseReturnValue:
    """A weighing typed by hand (the scale's capture comes with the bridge): with its reason,
    marked manual; refused beside its field with the band when it does not fit."""
    form = request.form
    return act(
        lambda: capture.record_weight(
            db_session(), actor=current_user, batch_no=batch_no, code=code,
            quantity=form.get("quantity", ""), unit=form.get("unit", ""),
            reason=form.get("reason", ""), clock=plant_clock(), key=form.get("key", ""),
        ),
        done=lambda entry: go_to(
            url_for("batches.step", batch_no=batch_no, code=code),
            f"{entry.value} {entry.unit} of lot {entry.subject} recorded (manual).",
        )(entry),
        refused=lambda exc: (
            _step_page(batch_no, code, errors=exc, scanned_for="weight", form=form), 422
        ),
    )  # fmt: skip
