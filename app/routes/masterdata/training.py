"""Training: the matrix of people against curricula, recording training, new curricula."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from app.forms import parse_date
from app.htmx import full_redirect
from app.services.core.actors import require_role
from app.services.core.errors import Rejected
from app.services.masterdata import training
from app.web import act, db_session, go_to, plant_clock

bp = Blueprint("training", __name__, url_prefix="/training")


def _page(failed: str | None = None, errors: Rejected | None = None) -> tuple[str, int]:
    require_role(current_user, *training.VIEWERS, action="see the training matrix")
    session = db_session()
    return render_template(
        "masterdata/training/index.html",
        matrix=training.matrix(session, today=plant_clock().today()),
        curricula=training.list_curricula(session),
        kinds=training.CURRICULUM_KINDS,
        failed=failed,
        errors=errors,
        form=request.form if failed else {},
    ), 422 if errors else 200


@bp.get("/")
@login_required
def index() -> tuple[str, int]:
    """Who is trained on what, and until when."""
    return _page()


@bp.get("/people/<int:user_id>")
@login_required
def person(user_id: int) -> str:
    """One person's training records, every one kept, with the reasons (anyone's own)."""
    trainee, entries = training.history(db_session(), user_id=user_id, viewer=current_user)
    return render_template(
        "masterdata/training/person.html",
        person=trainee,
        entries=entries,
        may_see_matrix=training.may_see_matrix(current_user),
    )


@bp.post("/records")
@login_required
def record() -> ResponseReturnValue:
    """Record that a person was trained on a curriculum."""

    return act(
        lambda: training.record_training(
            db_session(),
            actor=current_user,
            user_id=request.form.get("user_id", type=int) or 0,
            curriculum_code=request.form.get("curriculum", ""),
            trained_on=parse_date(
                request.form.get("trained_on", ""), "trained_on", "training date"
            ),  # type: ignore[arg-type]
            expires_on=parse_date(
                request.form.get("expires_on", ""), "expires_on", "expiry date", required=False
            ),
            note=request.form.get("note"),
            reason=request.form.get("reason"),
            clock=plant_clock(),
        ),
        done=go_to(url_for("training.index"), "Training recorded."),
        refused=lambda exc: _page("record", exc),
    )


@bp.post("/curricula")
@login_required
def create_curriculum() -> ResponseReturnValue:
    """A new curriculum (an SOP or a product's MBR)."""

    def _do() -> Any:
        curriculum = training.create_curriculum(
            db_session(),
            actor=current_user,
            code=request.form.get("code", ""),
            title=request.form.get("title", ""),
            kind=request.form.get("kind", ""),
            validity_days=request.form.get("validity_days", ""),
            clock=plant_clock(),
        )
        return curriculum

    def _refused(exc: Rejected) -> ResponseReturnValue:
        return _page("curriculum", exc)

    def _done(curriculum: Any) -> ResponseReturnValue:
        flash(f"Curriculum {curriculum.code} created.", "success")
        return full_redirect(url_for("training.index"))

    return act(_do, done=_done, refused=_refused)
