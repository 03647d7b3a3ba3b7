"""Master batch records: list, author a draft (header, steps, BOM), review, compare, preview."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.htmx import full_redirect
from app.models import EquipmentKind, Meaning, RevisionStatus, StepKind, ToleranceKind
from app.services.core.errors import Rejected
from app.services.esign import signatures
from app.services.masterdata import training
from app.services.mbr import approval, bom, reading, revisions, steps
from app.services.mbr import compare as comparison
from app.web import act, db_session, go_to, plant_clock

bp = Blueprint("recipes", __name__, url_prefix="/recipes")
LIMIT_ROWS = 4


def _header(form: MultiDict[str, str]) -> revisions.HeaderIn:
    return revisions.HeaderIn(
        batch_size=form.get("batch_size", ""),
        batch_unit=form.get("batch_unit", ""),
        drawing_revision=form.get("drawing_revision", ""),
        sop_codes=form.get("sop_codes", ""),
        change_note=form.get("change_note", ""),
    )


def _step(form: MultiDict[str, str]) -> steps.StepIn:
    limits = tuple(
        steps.LimitIn(
            form.get(f"limit{i}_name", ""),
            form.get(f"limit{i}_unit", ""),
            form.get(f"limit{i}_low", ""),
            form.get(f"limit{i}_high", ""),
        )
        for i in range(1, LIMIT_ROWS + 1)
    )
    return steps.StepIn(
        code=form.get("code", ""),
        kind=form.get("kind", ""),
        title=form.get("title", ""),
        instruction=form.get("instruction", ""),
        equipment_kind=form.get("equipment_kind", ""),
        training_code=form.get("training_code", ""),
        per_unit=form.get("per_unit") == "on",
        verification_required=form.get("verification_required") == "on",
        limits=limits,
    )


def _bom(form: MultiDict[str, str]) -> bom.BomLineIn:
    return bom.BomLineIn(
        material_code=form.get("material", ""),
        quantity=form.get("quantity", ""),
        unit=form.get("unit", ""),
        tolerance=form.get("tolerance", ""),
        tolerance_kind=form.get("tolerance_kind", ToleranceKind.PERCENT.value),
        step_code=form.get("step", ""),
    )


def _editor(
    revision_id: int, *, failed: str | None = None, errors: Rejected | None = None
) -> tuple[str, int]:
    """The revision page; after a refused form, that form keeps its input and its messages."""
    session = db_session()
    view = reading.load_revision(session, revision_id)
    all_revisions = reading.revisions_of(session, view.recipe.id)  # type: ignore[arg-type]
    previous = next(
        (r for r in reversed(all_revisions) if r.id < view.revision.id),  # type: ignore[operator]
        None,
    )
    return render_template(
        "mbr/recipes/revision.html",
        view=view,
        revisions=all_revisions,
        previous=previous,
        signed=approval.review_signatures(session, view.revision),
        shown=signatures.signatures_for(
            session, record_type=reading.RECORD_TYPE, record_id=str(view.revision.id)
        ),
        paper=approval.paper_approval(session, view.revision),
        gaps=approval.completeness_problems(view) if view.editable else [],
        failed=failed,
        errors=errors,
        form=request.form if failed else {},
        step_kinds=list(StepKind),
        equipment_kinds=list(EquipmentKind),
        curricula=training.list_curricula(session),
        limit_rows=LIMIT_ROWS,
        Meaning=Meaning,
    ), 422 if errors else 200


def _act(
    revision_id: int, failed: str, action: Callable[[], object], done: str
) -> ResponseReturnValue:
    """Run one command; on refusal show the page again with the messages beside the form."""
    return act(
        action,
        done=go_to(url_for("recipes.revision", revision_id=revision_id), done),
        refused=lambda exc: _editor(revision_id, failed=failed, errors=exc),
    )


@bp.get("/")
@login_required
def index() -> str:
    """Every recipe with its revisions and their status."""
    return render_template(
        "mbr/recipes/index.html",
        recipes=reading.list_recipes(db_session()),
        form={},
        errors=None,
        Status=RevisionStatus,
    )


@bp.post("/")
@login_required
def create() -> ResponseReturnValue:
    """A new recipe with its first draft revision."""

    def _do() -> Any:
        revision = revisions.create_recipe(
            db_session(),
            actor=current_user,
            code=request.form.get("code", ""),
            name=request.form.get("name", ""),
            product_code=request.form.get("product", ""),
            header=_header(request.form),
            clock=plant_clock(),
        )
        return revision

    def _refused(exc: Rejected) -> ResponseReturnValue:
        page = render_template(
            "mbr/recipes/index.html",
            recipes=reading.list_recipes(db_session()),
            form=request.form,
            errors=exc,
            Status=RevisionStatus,
        )
        return page, 422

    def _done(revision: Any) -> ResponseReturnValue:
        flash(
            f"Recipe {request.form.get('code', '').upper()} created with draft revision A.",
            "success",
        )
        return full_redirect(url_for("recipes.revision", revision_id=revision.id))

    return act(_do, done=_done, refused=_refused)


@bp.post("/<int:recipe_id>/revisions")
@login_required
def start_revision(recipe_id: int) -> Response:
    """A new draft copied from the newest revision."""
    revision = revisions.start_revision(
        db_session(), actor=current_user, recipe_id=recipe_id, clock=plant_clock()
    )
    flash(f"Draft revision {revision.revision} started.", "success")
    return full_redirect(url_for("recipes.revision", revision_id=revision.id))


@bp.get("/revisions/<int:revision_id>")
@login_required
def revision(revision_id: int) -> tuple[str, int]:
    """One revision: read it, and while it is a draft, edit it."""
    return _editor(revision_id)


@bp.post("/revisions/<int:revision_id>/header")
@login_required
def header(revision_id: int) -> ResponseReturnValue:
    return _act(
        revision_id,
        "header",
        lambda: revisions.update_header(
            db_session(),
            actor=current_user,
            revision_id=revision_id,
            header=_header(request.form),
            clock=plant_clock(),
        ),
        "Header saved.",
    )


@bp.post("/revisions/<int:revision_id>/steps")
@login_required
def add_step(revision_id: int) -> ResponseReturnValue:
    return _act(
        revision_id,
        "step-new",
        lambda: steps.add_step(
            db_session(),
            actor=current_user,
            revision_id=revision_id,
            new=_step(request.form),
            clock=plant_clock(),
        ),
        f"Step {request.form.get('code', '')} added.",
    )


@bp.post("/revisions/<int:revision_id>/steps/<int:step_id>")
@login_required
def update_step(revision_id: int, step_id: int) -> ResponseReturnValue:
    return _act(
        revision_id,
        f"step-{step_id}",
        lambda: steps.update_step(
            db_session(),
            actor=current_user,
            step_id=step_id,
            new=_step(request.form),
            clock=plant_clock(),
        ),
        f"Step {request.form.get('code', '')} saved.",
    )


@bp.post("/revisions/<int:revision_id>/steps/<int:step_id>/move")
@login_required
def move_step(revision_id: int, step_id: int) -> ResponseReturnValue:
    offset = -1 if request.form.get("direction") == "up" else 1
    return _act(
        revision_id,
        f"step-{step_id}",
        lambda: steps.move_step(
            db_session(), actor=current_user, step_id=step_id, offset=offset, clock=plant_clock()
        ),
        "Step moved.",
    )


@bp.post("/revisions/<int:revision_id>/steps/<int:step_id>/remove")
@login_required
def remove_step(revision_id: int, step_id: int) -> ResponseReturnValue:
    return _act(
        revision_id,
        f"step-{step_id}",
        lambda: steps.remove_step(
            db_session(), actor=current_user, step_id=step_id, clock=plant_clock()
        ),
        "Step removed.",
    )


@bp.post("/revisions/<int:revision_id>/bom")
@login_required
def add_bom_line(revision_id: int) -> ResponseReturnValue:
    return _act(
        revision_id,
        "bom-new",
        lambda: bom.add_bom_line(
            db_session(),
            actor=current_user,
            revision_id=revision_id,
            new=_bom(request.form),
            clock=plant_clock(),
        ),
        f"{request.form.get('material', '').upper()} added to the bill of materials.",
    )


@bp.post("/revisions/<int:revision_id>/bom/<int:line_id>")
@login_required
def update_bom_line(revision_id: int, line_id: int) -> ResponseReturnValue:
    return _act(
        revision_id,
        f"bom-{line_id}",
        lambda: bom.update_bom_line(
            db_session(),
            actor=current_user,
            line_id=line_id,
            new=_bom(request.form),
            clock=plant_clock(),
        ),
        "BOM line saved.",
    )


@bp.post("/revisions/<int:revision_id>/bom/<int:line_id>/remove")
@login_required
def remove_bom_line(revision_id: int, line_id: int) -> ResponseReturnValue:
    return _act(
        revision_id,
        f"bom-{line_id}",
        lambda: bom.remove_bom_line(
            db_session(), actor=current_user, line_id=line_id, clock=plant_clock()
        ),
        "BOM line removed.",
    )


@bp.post("/revisions/<int:revision_id>/submit")
@login_required
def submit(revision_id: int) -> ResponseReturnValue:
    return _act(
        revision_id,
        "review",
        lambda: approval.submit_for_review(
            db_session(), actor=current_user, revision_id=revision_id, clock=plant_clock()
        ),
        "Sent to review. The revision is frozen; the author signs, then QA approves.",
    )


@bp.post("/revisions/<int:revision_id>/return")
@login_required
def return_to_draft(revision_id: int) -> ResponseReturnValue:
    return _act(
        revision_id,
        "return",
        lambda: approval.return_to_draft(
            db_session(),
            actor=current_user,
            revision_id=revision_id,
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        "Returned to draft.",
    )


@bp.get("/revisions/<int:revision_id>/preview")
@login_required
def preview(revision_id: int) -> str:
    """Exactly how the steps will look on a handheld."""
    return render_template(
        "mbr/recipes/preview.html", view=reading.load_revision(db_session(), revision_id)
    )


@bp.get("/compare")
@login_required
def compare() -> str:
    """Two revisions side by side: BOM lines and steps added, removed, changed."""
    old_id = request.args.get("old", type=int) or 0
    new_id = request.args.get("new", type=int) or 0
    return render_template(
        "mbr/recipes/compare.html",
        diff=comparison.compare(db_session(), old_id=old_id, new_id=new_id),
    )
