"""Materials: search, create, change with a reason, (de)activate, approved suppliers, CSV import."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from app.htmx import full_redirect, wants_partial
from app.models import MaterialKind, Tracking
from app.services.core.errors import Rejected
from app.services.masterdata import imports, materials
from app.services.quality import specifications
from app.web import act, db_session, go_to, plant_clock

bp = Blueprint("materials", __name__, url_prefix="/materials")


def _material_in(form: MultiDict[str, str]) -> materials.MaterialIn:
    return materials.MaterialIn(
        code=form.get("code", ""),
        name=form.get("name", ""),
        kind=form.get("kind", ""),
        unit=form.get("unit", ""),
        gtin=form.get("gtin", ""),
        allergens=form.get("allergens", ""),
        tracking=form.get("tracking", Tracking.LOT.value),
        shelf_life_days=form.get("shelf_life_days", ""),
        dietary_ingredient=form.get("dietary_ingredient") == "1",
        on_traceability_list=bool(form.get("on_traceability_list")),
        ftl_category=form.get("ftl_category", ""),
        pack_size=form.get("pack_size", ""),
        pack_style=form.get("pack_style", ""),
    )


def _choices() -> dict[str, object]:
    return {
        "kinds": list(MaterialKind),
        "units": materials.UNITS,
        "ftl_categories": materials.FTL_CATEGORIES,
    }


@bp.get("/")
@login_required
def index() -> str:
    """All materials, searchable by code, name or GTIN."""
    search = request.args.get("q", "")
    return render_template(
        "masterdata/materials/index.html",
        items=materials.list_materials(db_session(), search=search),
        search=search,
    )


@bp.get("/new")
@login_required
def new() -> str:
    return render_template("masterdata/materials/new.html", form={}, errors=None, **_choices())


@bp.post("/")
@login_required
def create() -> ResponseReturnValue:
    def _do() -> Any:
        material = materials.create_material(
            db_session(), actor=current_user, new=_material_in(request.form), clock=plant_clock()
        )
        return material

    def _refused(exc: Rejected) -> ResponseReturnValue:
        template = (
            "masterdata/materials/_form.html"
            if wants_partial()
            else "masterdata/materials/new.html"
        )
        return render_template(template, form=request.form, errors=exc, **_choices()), 422

    def _done(material: Any) -> ResponseReturnValue:
        flash(f"Material {material.code} created.", "success")
        return full_redirect(url_for("materials.show", material_id=material.id))

    return act(_do, done=_done, refused=_refused)


def _show(
    material_id: int, failed: str | None = None, errors: Rejected | None = None
) -> ResponseReturnValue:
    session = db_session()
    material = materials.get_material(session, material_id)
    page = render_template(
        "masterdata/materials/show.html",
        material=material,
        suppliers=materials.suppliers_of(session, material_id),
        spec_tests=specifications.active_tests(session, material_id),
        limits_text=specifications.limits_text,
        qualified=specifications.qualified_supplier_ids(session, material_id),
        can_specify=current_user.has_role(*specifications.QC),
        failed=failed,
        errors=errors,
        form=request.form if failed == "edit" else material,
        posted=request.form,
        **_choices(),
    )
    return (page, 422) if errors else page


@bp.get("/<int:material_id>")
@login_required
def show(material_id: int) -> ResponseReturnValue:
    return _show(material_id)


@bp.post("/<int:material_id>/edit")
@login_required
def edit(material_id: int) -> ResponseReturnValue:
    return act(
        lambda: materials.update_material(
            db_session(),
            actor=current_user,
            material_id=material_id,
            new=_material_in(request.form),
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        done=go_to(url_for("materials.show", material_id=material_id), "Material saved."),
        refused=lambda exc: _show(material_id, "edit", exc),
    )


@bp.post("/<int:material_id>/spec")
@login_required
def add_spec_test(material_id: int) -> ResponseReturnValue:
    """Add a required test to the material's specification (QA)."""
    form = request.form
    return act(
        lambda: specifications.add_test(
            db_session(),
            actor=current_user,
            material_id=material_id,
            new=specifications.SpecTestIn(
                name=form.get("name", ""),
                method=form.get("method", ""),
                kind=form.get("kind", ""),
                low=form.get("low", ""),
                high=form.get("high", ""),
                unit=form.get("unit", ""),
                expected=form.get("expected", ""),
                identity=form.get("identity") == "1",
                coa_allowed=form.get("coa_allowed") == "1",
            ),
            clock=plant_clock(),
        ),
        done=go_to(url_for("materials.show", material_id=material_id), "Test added."),
        refused=lambda exc: _show(material_id, "spec", exc),
    )


@bp.post("/<int:material_id>/spec/<spec_test_id>/retire")
@login_required
def retire_spec_test(material_id: int, spec_test_id: str) -> ResponseReturnValue:
    return act(
        lambda: specifications.retire_test(
            db_session(),
            actor=current_user,
            spec_test_id=spec_test_id,
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        done=go_to(url_for("materials.show", material_id=material_id), "Test retired."),
        refused=lambda exc: _show(material_id, f"retire-{spec_test_id}", exc),
    )


@bp.post("/<int:material_id>/suppliers/qualify")
@login_required
def qualify_supplier(material_id: int) -> ResponseReturnValue:
    """Accept a supplier's certificates of analysis for this material (QA, with a reason)."""
    return act(
        lambda: specifications.qualify_supplier(
            db_session(),
            actor=current_user,
            material_id=material_id,
            party_code=request.form.get("party", ""),
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        done=go_to(url_for("materials.show", material_id=material_id), "Supplier qualified."),
        refused=lambda exc: _show(material_id, "qualify", exc),
    )


@bp.post("/<int:material_id>/active")
@login_required
def set_active(material_id: int) -> ResponseReturnValue:
    active = request.form.get("active") == "1"

    return act(
        lambda: materials.set_active(
            db_session(),
            actor=current_user,
            material_id=material_id,
            active=active,
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        done=go_to(
            url_for("materials.show", material_id=material_id),
            "Material reactivated." if active else "Material deactivated.",
        ),
        refused=lambda exc: _show(material_id, "active", exc),
    )


@bp.post("/<int:material_id>/suppliers")
@login_required
def approve_supplier(material_id: int) -> ResponseReturnValue:
    return act(
        lambda: materials.approve_supplier(
            db_session(),
            actor=current_user,
            material_id=material_id,
            party_code=request.form.get("party", ""),
            clock=plant_clock(),
        ),
        done=go_to(
            url_for("materials.show", material_id=material_id),
            "Supplier approved for this material.",
        ),
        refused=lambda exc: _show(material_id, "supplier", exc),
    )


def import_page(kind_name: str) -> ResponseReturnValue:
    """GET shows the upload form; POST checks (dry run) or imports a CSV file."""
    kind = imports.KINDS[kind_name]
    if request.method == "GET":
        return render_template("masterdata/imports/index.html", kind=kind, report=None, errors=None)
    upload = request.files.get("file")

    def _do() -> Any:
        report = imports.run_import(
            db_session(),
            actor=current_user,
            kind_name=kind_name,
            data=upload.read() if upload else b"",
            filename=upload.filename or "" if upload else "",
            dry_run=request.form.get("mode") != "import",
            clock=plant_clock(),
        )
        return report

    def _refused(exc: Rejected) -> ResponseReturnValue:
        return render_template(
            "masterdata/imports/index.html", kind=kind, report=None, errors=exc
        ), 422

    def _done(report: Any) -> ResponseReturnValue:
        status = 200 if report.ok else 422
        return render_template(
            "masterdata/imports/index.html", kind=kind, report=report, errors=None
        ), status

    return act(_do, done=_done, refused=_refused)


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_csv() -> ResponseReturnValue:
    """Load materials from an ERP's CSV export."""
    return import_page("materials")
