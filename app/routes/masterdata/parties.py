"""Suppliers, customers and our sites: list by kind, create, change with a reason, deactivate."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from app.htmx import full_redirect, wants_partial
from app.models import PartyKind
from app.services.core.errors import Rejected
from app.services.masterdata import parties
from app.web import act, db_session, go_to, plant_clock

bp = Blueprint("parties", __name__, url_prefix="/parties")


def _party_in(form: MultiDict[str, str]) -> parties.PartyIn:
    return parties.PartyIn(
        code=form.get("code", ""),
        kind=form.get("kind", ""),
        business_name=form.get("business_name", ""),
        phone=form.get("phone", ""),
        street=form.get("street", ""),
        city=form.get("city", ""),
        region=form.get("region", ""),
        postal_code=form.get("postal_code", ""),
        country=form.get("country", ""),
        fda_registration=form.get("fda_registration", ""),
        gln=form.get("gln", ""),
        fei=form.get("fei", ""),
        url=form.get("url", ""),
        lot_is_tlc=bool(form.get("lot_is_tlc")),
    )


@bp.get("/")
@login_required
def index() -> str:
    kind = request.args.get("kind", "")
    return render_template(
        "masterdata/parties/index.html",
        items=parties.list_parties(db_session(), kind=kind),
        kind=kind,
        kinds=list(PartyKind),
    )


@bp.get("/new")
@login_required
def new() -> str:
    form = {"kind": request.args.get("kind", "supplier")}
    return render_template(
        "masterdata/parties/new.html", form=form, errors=None, kinds=list(PartyKind)
    )


@bp.post("/")
@login_required
def create() -> ResponseReturnValue:
    def _do() -> Any:
        party = parties.create_party(
            db_session(), actor=current_user, new=_party_in(request.form), clock=plant_clock()
        )
        return party

    def _refused(exc: Rejected) -> ResponseReturnValue:
        template = (
            "masterdata/parties/_form.html" if wants_partial() else "masterdata/parties/new.html"
        )
        return render_template(template, form=request.form, errors=exc, kinds=list(PartyKind)), 422

    def _done(party: Any) -> ResponseReturnValue:
        flash(f"{party.business_name} created.", "success")
        return full_redirect(url_for("parties.show", party_id=party.id))

    return act(_do, done=_done, refused=_refused)


def _show(
    party_id: int, failed: str | None = None, errors: Rejected | None = None
) -> ResponseReturnValue:
    party = parties.get_party(db_session(), party_id)
    page = render_template(
        "masterdata/parties/show.html",
        party=party,
        failed=failed,
        errors=errors,
        form=request.form if failed else party,
        kinds=list(PartyKind),
    )
    return (page, 422) if errors else page


@bp.get("/<int:party_id>")
@login_required
def show(party_id: int) -> ResponseReturnValue:
    return _show(party_id)


@bp.post("/<int:party_id>/edit")
@login_required
def edit(party_id: int) -> ResponseReturnValue:
    return act(
        lambda: parties.update_party(
            db_session(),
            actor=current_user,
            party_id=party_id,
            new=_party_in(request.form),
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        done=go_to(url_for("parties.show", party_id=party_id), "Saved."),
        refused=lambda exc: _show(party_id, "edit", exc),
    )


@bp.post("/<int:party_id>/active")
@login_required
def set_active(party_id: int) -> ResponseReturnValue:
    active = request.form.get("active") == "1"

    return act(
        lambda: parties.set_active(
            db_session(),
            actor=current_user,
            party_id=party_id,
            active=active,
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        done=go_to(
            url_for("parties.show", party_id=party_id), "Reactivated." if active else "Deactivated."
        ),
        refused=lambda exc: _show(party_id, "active", exc),
    )
