"""Lots on the handheld: receive by scanning, the lot page, labels, issue and return."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlmodel import Session
from werkzeug.datastructures import MultiDict

from app.forms import new_key, parse_date
from app.htmx import full_redirect, in_place, is_htmx, wants_partial
from app.models import Lot, LotStatus, Meaning, Role
from app.routes.quality.qc import evidence_context
from app.services.core import history
from app.services.core.errors import GateViolation, Rejected
from app.services.core.quantities import shown
from app.services.esign import signatures
from app.services.execution import batches
from app.services.masterdata import materials, parties
from app.services.warehouse import corrections, disposition, issuing, labels, ledger, receipt
from app.services.warehouse import output as production_output
from app.web import act, db_session, go_to, plant_clock

bp = Blueprint("lots", __name__, url_prefix="/lots")


@bp.get("/")
@login_required
def index() -> str:
    """Lots, newest first; search by our lot code, supplier lot or material; only those in a
    status, or with a stock count waiting for approval (the home page's links)."""
    search = request.args.get("q", "")
    status = request.args.get("status", "")
    status_filter = LotStatus(status) if status in set(LotStatus) else None
    count_waiting = request.args.get("count") == "waiting"
    return render_template(
        "warehouse/lots/index.html",
        items=ledger.list_lots(
            db_session(), search=search, status=status_filter, count_waiting=count_waiting
        ),
        search=search,
        status=status_filter,
        count_waiting=count_waiting,
        may_move_stock=ledger.may_move_stock(current_user),
        today=plant_clock().today(),
    )


def _receipt_page(
    form: MultiDict[str, str] | dict[str, str],
    *,
    errors: Rejected | None = None,
    status: int = 200,
) -> tuple[str, int]:
    session = db_session()
    material = (
        materials.get_by_code(session, form.get("material", "")) if form.get("material") else None
    )
    suppliers = materials.suppliers_of(session, material.id) if material else []  # type: ignore[arg-type]
    if form.get("supplier", "") not in {p.code for p in suppliers}:
        # The material's only approved supplier is chosen for the receiver; any other is theirs.
        form = {**form, "supplier": suppliers[0].code if len(suppliers) == 1 else ""}
    template = "warehouse/lots/_receipt.html" if wants_partial() else "warehouse/lots/receive.html"
    return render_template(
        template,
        form=form,
        errors=errors,
        key=form.get("key") or new_key(),
        material=material,
        suppliers=suppliers,
        materials=materials.list_materials(session, include_inactive=False),
        tlc_sources=[p for p in parties.list_parties(session) if p.active],
    ), status


@bp.get("/receive")
@login_required
def receive_page() -> tuple[str, int]:
    """Scan the supplier's label first; the form fills itself. htmx asks again with the form's
    values when the material changes, for the form with that material's suppliers."""
    return _receipt_page(request.args if wants_partial() else {})


@bp.post("/receive/scan")
@login_required
def scan() -> tuple[str, int]:
    """A scanned supplier label: fill the receipt form from it, or say why it cannot be read."""
    raw = request.form.get("scan", "")
    try:
        found, material = receipt.prefill_from_scan(db_session(), raw)
    except Rejected as exc:
        return _receipt_page({"scan": raw}, errors=exc, status=422)
    form = {
        "scan": raw,
        "material": material.code if material else "",
        "supplier_lot": found.lot or "",
        "expiry": found.expiry.isoformat() if found.expiry else "",
        "quantity": str(found.quantity) if found.quantity is not None else "",
        "gtin": found.gtin or "",
    }
    return _receipt_page(form)


@bp.post("/receive")
@login_required
def receive() -> ResponseReturnValue:
    """Record the delivery in quarantine; a repeated form records nothing new."""
    form = request.form

    def _do() -> Any:
        lot, again = receipt.receive(
            db_session(),
            actor=current_user,
            new=receipt.ReceiptIn(
                material_code=form.get("material", ""),
                supplier_code=form.get("supplier", ""),
                supplier_lot=form.get("supplier_lot", ""),
                quantity=form.get("quantity", ""),
                expiry=parse_date(form.get("expiry", ""), "expiry", "expiry date"),
                containers=form.get("containers", "1"),
                gtin=form.get("gtin", ""),
                key=form.get("key", ""),
                tlc=form.get("tlc", ""),
                tlc_source=form.get("tlc_source", ""),
                tlc_source_reference=form.get("tlc_source_reference", ""),
                assign_tlc=bool(form.get("assign_tlc")),
                assign_tlc_reason=form.get("assign_tlc_reason", ""),
            ),
            clock=plant_clock(),
        )
        return lot, again

    def _refused(exc: Rejected) -> ResponseReturnValue:
        return _receipt_page(form, errors=exc, status=422)

    def _done(_result: Any) -> ResponseReturnValue:
        lot, again = _result
        if again:
            already = f"This receipt was already recorded as lot {lot.lot_code}"
            flash(f"{already}; nothing new was recorded.", "info")
        else:
            flash(f"Received into quarantine as lot {lot.lot_code}. Print its label.", "success")
        return full_redirect(url_for("lots.show", lot_code=lot.lot_code))

    return act(_do, done=_done, refused=_refused)


@bp.get("/<lot_code>")
@login_required
def show(lot_code: str) -> str:
    """Everything about one lot: status, QC evidence and signatures, balance, movements,
    history."""
    return lot_page(lot_code)


def lot_page(
    lot_code: str,
    *,
    qc_errors: Rejected | None = None,
    qc_failed: str = "",
    label_errors: Rejected | None = None,
    correction_errors: Rejected | None = None,
    count_errors: Rejected | None = None,
) -> str:
    session = db_session()
    view = ledger.load_lot(session, lot_code)
    return render_template(
        "warehouse/lots/show.html",
        view=view,
        shown=signatures.signatures_for(session, record_type="lot", record_id=str(view.lot.id)),
        today=plant_clock().today(),
        actions=_qc_actions(view.status) if current_user.has_role(Role.QA) else [],
        key=new_key(),
        can_move=ledger.may_move_stock(current_user),
        errors=None,
        qc_errors=qc_errors,
        qc_failed=qc_failed,
        label_errors=label_errors,
        correction_errors=correction_errors,
        count_errors=count_errors,
        corrections=corrections.corrections_of(session, view.lot.id),  # type: ignore[arg-type]
        adjustments=corrections.adjustments_of(session, view.lot.id),  # type: ignore[arg-type]
        may_correct=corrections.may_correct(session, view.lot, current_user),
        may_count=ledger.may_move_stock(current_user),  # propose_adjustment's rule
        may_approve_count=corrections.may_approve_counts(current_user),
        label=labels.label_state(session, view.lot, current_user),
        history=history.tell(session, view.history),
        next_lot=_next_to_decide(session, view.lot),
        **evidence_context(view.lot),
    )


def _next_to_decide(session: Session, lot: Lot) -> str | None:
    """For QA, once this lot is decided: the next lot waiting in quarantine for their release
    (the home's rule), so a run of releases goes from lot to lot without the list."""
    if lot.status == LotStatus.QUARANTINE or not disposition.may_decide(current_user):
        return None
    return disposition.next_to_decide(session, current_user, lot)


def _qc_actions(status: LotStatus) -> list[tuple[Meaning, str, str]]:
    """The QC decisions open for a lot in `status`: (meaning, button words, button tone)."""
    words = {
        Meaning.RELEASED: ("Release", "primary"),
        Meaning.REJECTED: ("Reject", "danger"),
        Meaning.HELD: ("Put on hold", "caution"),
        Meaning.HOLD_LIFTED: ("Lift hold", "primary"),
    }
    return [
        (meaning, *words[meaning])
        for meaning, (allowed, _) in disposition.DISPOSITIONS.items()
        if status in allowed
    ]


@bp.get("/<lot_code>/label")
@login_required
def label(lot_code: str) -> str:
    """A preview of the lot's labels: marked as one, without a barcode, nothing recorded."""
    return render_template(
        "warehouse/lots/label.html", view=labels.preview(db_session(), lot_code), printed=None
    )


@bp.post("/<lot_code>/label")
@login_required
def print_label(lot_code: str) -> ResponseReturnValue:
    """Record the print (a reprint needs a reason) and answer with the labels to print, one per
    container; a refusal answers htmx with the label section in place, the message beside it."""

    def _refused(exc: Rejected) -> ResponseReturnValue:
        if not is_htmx():
            return lot_page(lot_code, label_errors=exc)
        session = db_session()
        lot = ledger.get_lot(session, lot_code)
        section = render_template(
            "warehouse/lots/_label.html",
            lot=lot,
            label=labels.label_state(session, lot, current_user),
            errors=exc,
            reason=request.form.get("reason", ""),
        )
        return in_place(section, exc.status_code, f"#lot-{lot.id}-label")

    return act(
        lambda: labels.print_label(
            db_session(),
            actor=current_user,
            lot_code=lot_code,
            reprint_reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        done=lambda printed: render_template(
            "warehouse/lots/label.html", view=printed.view, printed=printed
        ),
        refused=_refused,
    )


@bp.post("/<lot_code>/correct")
@login_required
def correct_receipt(lot_code: str) -> ResponseReturnValue:
    """Supersede a receipt fact with a reason (the old value stays, struck through)."""
    return act(
        lambda: corrections.correct_receipt(
            db_session(),
            actor=current_user,
            lot_code=lot_code,
            field=request.form.get("field", ""),
            value=request.form.get("value", ""),
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        done=go_to(url_for("lots.show", lot_code=lot_code), "Receipt corrected."),
        refused=lambda exc: lot_page(lot_code, correction_errors=exc),
    )


@bp.post("/<lot_code>/count")
@login_required
def count_stock(lot_code: str) -> ResponseReturnValue:
    """A stock count that differs from the book, for QA to approve by signature."""
    return act(
        lambda: corrections.propose_adjustment(
            db_session(),
            actor=current_user,
            lot_code=lot_code,
            counted=request.form.get("counted", ""),
            reason=request.form.get("reason", ""),
            clock=plant_clock(),
        ),
        done=go_to(
            url_for("lots.show", lot_code=lot_code),
            "Count recorded: the stock changes when QA approves the adjustment.",
        ),
        refused=lambda exc: lot_page(lot_code, count_errors=exc),
    )


@bp.get("/pick")
@login_required
def pick() -> ResponseReturnValue:
    """Picking for a batch: each material of its scaled BOM, released lots first-expiring first."""
    batch_no = request.args.get("batch_no", "")
    session = db_session()
    batch, errors = None, None
    lines: list[issuing.PickLine] = []
    if batch_no:
        try:
            batch, lines = issuing.pick_list(
                session, batch_no=batch_no, today=plant_clock().today()
            )
        except Rejected as exc:
            errors = exc
    page = render_template(
        "warehouse/lots/pick.html", batch_no=batch_no, batch=batch, lines=lines, errors=errors,
        batches=batches.list_batches_to_pick(session),
    )  # fmt: skip
    return (page, 422) if errors else page


@bp.get("/issue")
@login_required
def issue_page() -> str:
    """Issue from a lot. From the pick list: batch and quantity filled in, the lot to take as a
    hint (`expected_lot`), never pre-filled: the lot in hand is scanned and checked."""
    form = {k: request.args.get(k, "") for k in ("expected_lot", "batch_no", "quantity")}
    return render_template(
        "warehouse/lots/issue.html", form=form, errors=None, key=new_key(), fefo=[]
    )


@bp.post("/issue")
@login_required
def issue() -> ResponseReturnValue:
    """Issue material from a scanned lot to a batch (FEFO, status and balance gates); then back
    to the pick list it came from, or to the lot."""
    form = request.form
    session = db_session()

    def _do() -> Any:
        movement, again = issuing.issue(
            session,
            actor=current_user,
            new=issuing.IssueIn(
                lot_code=form.get("lot", ""),
                quantity=form.get("quantity", ""),
                batch_no=form.get("batch_no", ""),
                reason=form.get("reason", ""),
                key=form.get("key", ""),
                expected_lot=form.get("expected_lot", ""),
            ),
            clock=plant_clock(),
        )
        return movement, again

    def _refused(exc: Rejected) -> ResponseReturnValue:
        fefo = []
        if isinstance(exc, GateViolation) and form.get("lot"):
            lot = ledger.lot_from_scan(session, form["lot"])
            fefo = issuing.fefo_lots(session, lot.material_id, plant_clock().today())
        page = render_template(
            "warehouse/lots/issue.html",
            form=form,
            errors=exc,
            key=form.get("key") or new_key(),
            fefo=fefo,
        )
        return page, 422

    def _done(_result: Any) -> ResponseReturnValue:
        movement, again = _result
        lot = ledger.lot_by_id(session, movement.lot_id)
        batch_no = form.get("batch_no", "").strip().upper()
        if again:
            flash("This issue was already recorded; nothing new was recorded.", "info")
        else:
            amount = shown(-movement.quantity, movement.unit)
            flash(f"Issued {amount} of lot {lot.lot_code} to {batch_no}.", "success")
        if form.get("expected_lot"):
            return full_redirect(url_for("lots.pick", batch_no=batch_no))
        return full_redirect(url_for("lots.show", lot_code=lot.lot_code))

    return act(_do, done=_done, refused=_refused)


@bp.post("/<lot_code>/return")
@login_required
def return_to_stock(lot_code: str) -> ResponseReturnValue:
    form = request.form

    def _do() -> Any:
        _, again = issuing.return_to_stock(
            db_session(),
            actor=current_user,
            lot_code=lot_code,
            quantity=form.get("quantity", ""),
            batch_no=form.get("batch_no", ""),
            key=form.get("key", ""),
            clock=plant_clock(),
        )
        return _, again

    def _refused(exc: Rejected) -> ResponseReturnValue:
        flash(exc.message, "error")
        return full_redirect(url_for("lots.show", lot_code=lot_code))

    def _done(_result: Any) -> ResponseReturnValue:
        _, again = _result
        flash("Already recorded; nothing new." if again else "Returned to stock.", "success")
        return full_redirect(url_for("lots.show", lot_code=lot_code))

    return act(_do, done=_done, refused=_refused)


@bp.get("/output")
@login_required
def output_page() -> str:
    """Confirm a batch's output into the warehouse."""
    return _output_page({})


def _output_page(form: object, errors: Rejected | None = None) -> str:
    finished = [
        m
        for m in materials.list_materials(db_session(), include_inactive=False)
        if m.kind in ("finished", "intermediate")
    ]
    return render_template(
        "warehouse/lots/output.html", form=form, errors=errors, key=new_key(), products=finished
    )


@bp.post("/output")
@login_required
def output() -> ResponseReturnValue:
    form = request.form

    def _do() -> Any:
        lot, again = production_output.receive_output(
            db_session(),
            actor=current_user,
            new=production_output.OutputIn(
                material_code=form.get("material", ""),
                batch_no=form.get("batch_no", ""),
                quantity=form.get("quantity", ""),
                expiry=parse_date(form.get("expiry", ""), "expiry", "expiry date", required=False),
                key=form.get("key", ""),
            ),
            clock=plant_clock(),
        )
        return lot, again

    def _refused(exc: Rejected) -> ResponseReturnValue:
        return _output_page(form, exc), 422

    def _done(_result: Any) -> ResponseReturnValue:
        lot, again = _result
        message = (
            "Already recorded; nothing new."
            if again
            else f"Lot {lot.lot_code} is in, in quarantine until QA releases it."
        )
        flash(message, "info" if again else "success")
        return full_redirect(url_for("lots.show", lot_code=lot.lot_code))

    return act(_do, done=_done, refused=_refused)
