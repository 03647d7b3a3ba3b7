"""Shipping on the handheld: open a shipment, pick lots by scanning, despatch, the advice."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from app.canonical import canonical_json
from app.forms import new_key
from app.htmx import full_redirect, wants_partial
from app.models import PartyKind, ShipmentLine
from app.services.core.errors import Rejected
from app.services.masterdata import parties
from app.services.trace import despatch_advice
from app.services.warehouse import shipping
from app.web import act, db_session, go_to, plant_clock

bp = Blueprint("shipments", __name__, url_prefix="/shipments")


def _index(errors: Rejected | None = None, form: Mapping[str, str] | None = None) -> str:
    session = db_session()
    return render_template(
        "warehouse/shipments/index.html",
        items=shipping.list_shipments(session),
        customers=[p for p in parties.list_parties(session, kind=PartyKind.CUSTOMER) if p.active],
        may_ship=shipping.may_ship(current_user),
        errors=errors,
        form=form or {},
    )


@bp.get("/")
@login_required
def index() -> str:
    return _index()


@bp.post("/")
@login_required
def start() -> ResponseReturnValue:
    def _do() -> Any:
        shipment = shipping.start_shipment(
            db_session(),
            actor=current_user,
            customer_code=request.form.get("customer", ""),
            reference=request.form.get("reference", ""),
            clock=plant_clock(),
        )
        return shipment

    def _done(shipment: Any) -> ResponseReturnValue:
        return full_redirect(url_for("shipments.show", shipment_no=shipment.shipment_no))

    return act(_do, done=_done, refused=lambda exc: (_index(exc, request.form), 422))


def _view(
    shipment_no: str,
    *,
    form: Mapping[str, str] | None = None,
    pick_errors: Rejected | None = None,
    line_errors: Rejected | None = None,
    line_id: int | None = None,
    picked: ShipmentLine | None = None,
    again: bool = False,
    confirm: bool = False,
    despatch_errors: Rejected | None = None,
) -> dict[str, Any]:
    """What the shipment page and its picking region show. `form` is the pick form sent back
    after a refusal (its scan still names the lot, for the unit and the reason field)."""
    session = db_session()
    shipment = shipping.get_shipment(session, shipment_no)
    form = form or {}
    return {
        "shipment": shipment,
        "lines": shipping.lines(session, shipment),
        "may_ship": shipping.may_ship(current_user),
        "form": form,
        "scan": shipping.read_pick_scan(session, form.get("scan", "")),
        "pick_errors": pick_errors,
        "line_errors": line_errors,
        "line_id": line_id,
        "picked": picked,
        "again": again,
        "summary": (
            shipping.despatch_summary(session, shipment_no, plant_clock()) if confirm else None
        ),
        "despatch_errors": despatch_errors,
        "key": new_key(),
    }


def _page(shipment_no: str, status: int = 200, **view: Any) -> tuple[str, int]:
    context = _view(shipment_no, **view)
    advice = despatch_advice.despatch_advice(db_session(), context["shipment"], plant_clock())
    return render_template("warehouse/shipments/show.html", advice=advice, **context), status


def _region(shipment_no: str, status: int = 200, **view: Any) -> tuple[str, int]:
    """The picking region (last answer, pick form, lines, despatch step), swapped in whole."""
    return render_template("warehouse/shipments/_pick.html", **_view(shipment_no, **view)), status


@bp.get("/<shipment_no>")
@login_required
def show(shipment_no: str) -> ResponseReturnValue:
    return _page(shipment_no)


@bp.get("/<shipment_no>/scanned")
@login_required
def scanned(shipment_no: str) -> str:
    """What the lot just scanned into the pick form needs: the quantity's unit, and the reason
    field when customers are not sold it."""
    return render_template(
        "warehouse/shipments/_pick_scan.html",
        shipment=shipping.get_shipment(db_session(), shipment_no),
        scan=shipping.read_pick_scan(db_session(), request.args.get("scan", "")),
        form={},
    )


@bp.post("/<shipment_no>/lines")
@login_required
def pick(shipment_no: str) -> ResponseReturnValue:
    """Pick a scanned lot with its quantity (and, for a lot that is not a finished good, the
    reason). The form's one-time key makes a double tap pick once and say so."""
    form = request.form

    def _do() -> Any:
        return shipping.add_line(
            db_session(),
            actor=current_user,
            shipment_no=shipment_no,
            scanned=form.get("scan", ""),
            quantity=form.get("quantity", ""),
            reason=form.get("reason", ""),
            key=form.get("key", ""),
            clock=plant_clock(),
        )

    def _refused(exc: Rejected) -> ResponseReturnValue:
        answer = _region if wants_partial() else _page
        return answer(shipment_no, 422, form=form, pick_errors=exc)

    def _done(result: Any) -> ResponseReturnValue:
        line, again = result
        if wants_partial():
            return _region(shipment_no, picked=line, again=again)
        flash(
            "Already picked; nothing new." if again else "Picked.", "info" if again else "success"
        )
        return full_redirect(url_for("shipments.show", shipment_no=shipment_no))

    return act(_do, done=_done, refused=_refused)


@bp.post("/<shipment_no>/lines/<int:line_id>/remove")
@login_required
def unpick(shipment_no: str, line_id: int) -> ResponseReturnValue:
    """Take a line off with a reason; a refusal sits beside that line's reason field."""

    def _refused(exc: Rejected) -> ResponseReturnValue:
        answer = _region if wants_partial() else _page
        return answer(shipment_no, 422, line_errors=exc, line_id=line_id)

    return act(
        lambda: shipping.remove_line(
            db_session(),
            actor=current_user,
            line_id=line_id,
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        done=go_to(url_for("shipments.show", shipment_no=shipment_no), "Taken off the shipment."),
        refused=_refused,
    )


@bp.get("/<shipment_no>/despatch")
@login_required
def despatch_confirm(shipment_no: str) -> ResponseReturnValue:
    """The one confirmation before a despatch: customer, lines, totals, Despatch now / Not yet."""
    if wants_partial():
        return render_template(
            "warehouse/shipments/_despatch.html", **_view(shipment_no, confirm=True)
        )
    return _page(shipment_no, confirm=True)


@bp.post("/<shipment_no>/despatch")
@login_required
def despatch(shipment_no: str) -> ResponseReturnValue:
    """Despatch as confirmed. The confirmation's one-time key makes a double tap ship once."""

    def _do() -> Any:
        return shipping.despatch(
            db_session(),
            actor=current_user,
            shipment_no=shipment_no,
            key=request.form.get("key", ""),
            clock=plant_clock(),
        )

    def _refused(exc: Rejected) -> ResponseReturnValue:
        if wants_partial():
            context = _view(shipment_no, confirm=True, despatch_errors=exc)
            return render_template("warehouse/shipments/_despatch.html", **context), 422
        return _page(shipment_no, 422, confirm=True, despatch_errors=exc)

    def _done(result: Any) -> ResponseReturnValue:
        _, again = result
        if again:
            flash("Already despatched; nothing new.", "info")
        else:
            flash("Shipped. The despatch advice is ready.", "success")
        return full_redirect(url_for("shipments.show", shipment_no=shipment_no))

    return act(_do, done=_done, refused=_refused)


@bp.get("/<shipment_no>/advice")
@login_required
def advice_page(shipment_no: str) -> str:
    """The despatch advice as sent, to print: the frozen advice, never recomputed."""
    session = db_session()
    shipment = shipping.get_shipment(session, shipment_no)
    return render_template(
        "warehouse/shipments/advice.html",
        shipment=shipment,
        advice=despatch_advice.as_sent(session, shipment, plant_clock()),
    )


@bp.get("/<shipment_no>/advice.<fmt>")
@login_required
def advice(shipment_no: str, fmt: str) -> Response:
    """The despatch advice (ASN) as JSON or CSV, with the FSMA 204 shipping KDEs: for a shipped
    shipment the one frozen at despatch, refused (409, with the reason) if it was altered."""
    if fmt not in ("csv", "json"):
        return Response("Choose .json or .csv", status=404)
    session = db_session()
    shipment = shipping.get_shipment(session, shipment_no)
    advice = despatch_advice.export(session, shipment, plant_clock())
    data = advice.content
    if fmt == "csv":
        body, mimetype = despatch_advice.despatch_advice_csv(data), "text/csv"
    else:
        body, mimetype = json.dumps(json.loads(canonical_json(data)), indent=2), "application/json"
    response = Response(body, mimetype=mimetype)
    name = f"{shipment.shipment_no}-despatch-advice"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    if advice.frozen is not None:
        response.headers["X-Content-SHA256"] = advice.frozen.sha256
    return response
