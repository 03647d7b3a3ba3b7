"""Shipping on the handheld: open a shipment, pick lots by scanning, despatch, the advice."""

from __future__ import annotations

import json
from collections.abc import Callable
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


@bp.get("/")
@login_required
def index() -> str:
    session = db_session()
    return render_template(
        "warehouse/shipments/index.html",
        items=shipping.list_shipments(session),
        customers=[p for p in parties.list_parties(session, kind=PartyKind.CUSTOMER) if p.active],
        errors=None,
    )


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

    def _refused(exc: Rejected) -> ResponseReturnValue:
        session = db_session()
        return render_template(
            "warehouse/shipments/index.html",
            items=shipping.list_shipments(session),
            customers=[
                p for p in parties.list_parties(session, kind=PartyKind.CUSTOMER) if p.active
            ],
            errors=exc,
        ), 422

    def _done(shipment: Any) -> ResponseReturnValue:
        return full_redirect(url_for("shipments.show", shipment_no=shipment.shipment_no))

    return act(_do, done=_done, refused=_refused)


def _show(shipment_no: str, errors: Rejected | None = None) -> ResponseReturnValue:
    session = db_session()
    shipment = shipping.get_shipment(session, shipment_no)
    page = render_template(
        "warehouse/shipments/show.html",
        shipment=shipment,
        lines=shipping.lines(session, shipment),
        advice=despatch_advice.despatch_advice(session, shipment, plant_clock()),
        errors=errors,
        form=request.form if errors else {},
        key=new_key(),
    )
    return (page, 422) if errors else page


def _act(shipment_no: str, action: Callable[[], object], done: str) -> ResponseReturnValue:
    """Run one command; on refusal show the page again with the messages beside the form."""
    return act(
        action,
        done=go_to(url_for("shipments.show", shipment_no=shipment_no), done),
        refused=lambda exc: _show(shipment_no, exc),
    )


@bp.get("/<shipment_no>")
@login_required
def show(shipment_no: str) -> ResponseReturnValue:
    return _show(shipment_no)


def _lines(
    shipment_no: str,
    *,
    refused: Rejected | None = None,
    picked: ShipmentLine | None = None,
    again: bool = False,
) -> tuple[str, int]:
    """The picked lines with what the last scan did: the scan kit's answer to one scan."""
    session = db_session()
    shipment = shipping.get_shipment(session, shipment_no)
    page = render_template(
        "warehouse/shipments/_lines.html",
        shipment=shipment,
        lines=shipping.lines(session, shipment),
        key=new_key(),
        refused=refused,
        picked=picked,
        again=again,
    )
    return page, 422 if refused else 200


@bp.post("/<shipment_no>/lines")
@login_required
def pick(shipment_no: str) -> ResponseReturnValue:
    """Pick a scanned lot. The scan kit sends each scan with its own id as the one-time key, so
    a resent scan (or a double tap of the plain form) picks once and says so."""

    def _do() -> Any:
        line, again = shipping.add_line(
            db_session(),
            actor=current_user,
            shipment_no=shipment_no,
            scanned=request.form.get("scan", ""),
            quantity=request.form.get("quantity", ""),
            key=request.form.get("key", ""),
            clock=plant_clock(),
        )
        return line, again

    def _refused(exc: Rejected) -> ResponseReturnValue:
        return _lines(shipment_no, refused=exc) if wants_partial() else _show(shipment_no, exc)

    def _done(_result: Any) -> ResponseReturnValue:
        line, again = _result
        if wants_partial():
            return _lines(shipment_no, picked=line, again=again)
        flash(
            "Already picked; nothing new." if again else "Picked.", "info" if again else "success"
        )
        return full_redirect(url_for("shipments.show", shipment_no=shipment_no))

    return act(_do, done=_done, refused=_refused)


@bp.post("/<shipment_no>/lines/<int:line_id>/remove")
@login_required
def unpick(shipment_no: str, line_id: int) -> ResponseReturnValue:
    return _act(
        shipment_no,
        lambda: shipping.remove_line(
            db_session(),
            actor=current_user,
            line_id=line_id,
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        "Taken off the shipment.",
    )


@bp.post("/<shipment_no>/despatch")
@login_required
def despatch(shipment_no: str) -> ResponseReturnValue:
    return _act(
        shipment_no,
        lambda: shipping.despatch(
            db_session(),
            actor=current_user,
            shipment_no=shipment_no,
            key=request.form.get("key", ""),
            clock=plant_clock(),
        ),
        "Shipped. The despatch advice is ready.",
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
