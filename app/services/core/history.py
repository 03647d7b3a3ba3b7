"""Histories in sentences: an audit event as a person reads it ("Released by Quinn Adeyemi —
passkey signature"), not as its action code ("signature.created").

One table, SENTENCES, holds the words for every action the services record (a test reads the
services and fails when an action has none). Each entry is one or more templates, tried in
order: the first whose facts the event carries is used, so an older event without a newer fact
still reads well. An action missing from the table reads as words made from its name. Every
history view (the lot page, the audit trail) tells its events through `tell`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session, col, select

from app.models import AuditEvent, Meaning, User
from app.services.core.quantities import shown

# {who} is the actor's full name; the other facts come from the event's after values, its before
# values as was_<name>, and the few words made from them in _facts (amount, meaning, method...).
SENTENCES: dict[str, tuple[str, ...]] = {
    # Lots: receipt, labels, QC, status, stock.
    "lot.received": (
        "Received {amount} in {containers_words} into quarantine by {who}",
        "Received into quarantine by {who}",
    ),
    "lot.opening_stock": (
        "Opening stock of {amount} recorded by {who}",
        "Opening stock recorded by {who}",
    ),
    "lot.output_received": (
        "Received {amount} from production by {who}",
        "Received from production by {who}",
    ),
    "lot.tlc_assigned": ("Traceability lot code {tlc} assigned by {who}",),
    "lot.label_printed": ("{labels_words} printed by {who}", "Label printed by {who}"),
    "lot.label_reprinted": ("{labels_words} reprinted by {who}", "Label reprinted by {who}"),
    "lot.sampled": ("Sampled from {containers} of {of} containers by {who}", "Sampled by {who}"),
    "lot.certificate_attached": ("Certificate of analysis {filename} attached by {who}",),
    "lot.result_recorded": ("{test}: {value} — {within_words}, recorded by {who}",),
    "lot.result_corrected": (
        "{test} corrected from {was_value} to {value} — {within_words}, by {who}",
    ),
    "lot.released": ("Lot released by {who} (was {was_status})", "Lot released by {who}"),
    "lot.rejected": ("Lot rejected by {who} (was {was_status})", "Lot rejected by {who}"),
    "lot.held": ("Lot put on hold by {who} (was {was_status})", "Lot put on hold by {who}"),
    "lot.hold_lifted": ("Hold lifted by {who}: back to {status}", "Hold lifted by {who}"),
    "lot.issued": ("Issued {amount} to batch {batch_no} by {who}",),
    "lot.returned": ("Returned {amount} from batch {batch_no} by {who}",),
    "lot.receipt_corrected": ("Receipt corrected by {who}",),
    "lot.adjustment_proposed": (
        "Counted {counted_amount} against {book_amount} on the book by {who}",
        "Stock count recorded by {who}",
    ),
    "lot.adjusted": ("Stock adjustment approved by {who}",),
    # Signatures and the signing account.
    "signature.created": ("{meaning} by {who} — {method} signature", "Signed by {who}"),
    "signature.failed": ("A signature by {who} failed",),
    "signing.locked": ("Signing locked for {who} after repeated failed signatures",),
    "signing.unlocked": ("Signing unlocked by {who}",),
    "signing.password_allowed": ("Signing with user ID and password allowed by {who}",),
    "alert.acknowledged": ("Alert acknowledged by {who}",),
    "esign.identity_checked": (
        "Identity checked by {who} against {document_type}",
        "Identity checked by {who}",
    ),
    "device.registered": ("Device {name} registered by {who}", "Device registered by {who}"),
    "passkey.enrolment_link_issued": ("Passkey enrolment link issued by {who}",),
    "passkey.enrolled": ("Passkey {name} enrolled by {who}", "Passkey enrolled by {who}"),
    "passkey.revoked": ("Passkey {name} revoked by {who}", "Passkey revoked by {who}"),
    "passkey.refused_shared_device": ("Passkey refused for {who}: a shared device",),
    "passkey.suspended_copied": (
        "Passkey {name} suspended: it looks copied",
        "Passkey suspended: it looks copied",
    ),
    # People and sessions.
    "login.succeeded": ("Signed in: {who}",),
    "login.failed": ("Sign-in failed ({reason})", "Sign-in failed"),
    "login.refused_locked": ("Sign-in refused: the account is locked",),
    "account.locked": ("Account locked after repeated failed sign-ins",),
    "logout": ("Signed out: {who}",),
    "session.expired": ("Signed out after inactivity: {who}",),
    "user.created": ("Account of {full_name} created by {who}", "Account created by {who}"),
    "user.deactivated": ("Account deactivated by {who}",),
    "user.reactivated": ("Account reactivated by {who}",),
    "user.roles_changed": ("Roles changed to {roles} by {who}", "Roles changed by {who}"),
    "user.unlocked": ("Sign-in unlocked by {who}",),
    "user.sessions_ended": ("Sessions ended by {who}",),
    "training.recorded": (
        "Training in {curriculum} recorded by {who}",
        "Training recorded by {who}",
    ),
    "curriculum.created": ("Curriculum {code} created by {who}", "Curriculum created by {who}"),
    # Master data.
    "material.created": ("Material {code} created by {who}", "Material created by {who}"),
    "material.changed": ("Material changed by {who}",),
    "material.deactivated": ("Material deactivated by {who}",),
    "material.reactivated": ("Material reactivated by {who}",),
    "material.supplier_approved": (
        "Supplier {business_name} approved by {who}",
        "Supplier approved by {who}",
    ),
    "material.supplier_coa_qualified": (
        "Certificates of {business_name} qualified by {who}",
        "Supplier's certificates qualified by {who}",
    ),
    "material.spec_test_added": (
        "Test {name} added to the specification by {who}",
        "Specification test added by {who}",
    ),
    "material.spec_test_retired": (
        "Test {was_name} retired from the specification by {who}",
        "Specification test retired by {who}",
    ),
    "party.created": ("Party {code} created by {who}", "Party created by {who}"),
    "party.changed": ("Party changed by {who}",),
    "party.deactivated": ("Party deactivated by {who}",),
    "party.reactivated": ("Party reactivated by {who}",),
    "equipment.created": ("Equipment {code} created by {who}", "Equipment created by {who}"),
    "equipment.changed": ("Equipment changed by {who}",),
    "equipment.taken_out_of_service": ("Taken out of service by {who}",),
    "equipment.returned_to_service": ("Returned to service by {who}",),
    "equipment.calibrated": (
        "Calibration {certificate} recorded by {who}",
        "Calibration recorded by {who}",
    ),
    "equipment.cleaned": ("Cleaning recorded by {who}",),
    "import.materials": ("Materials imported by {who}",),
    "import.equipment": ("Equipment imported by {who}",),
    # Documents.
    "document.added": ("Document {code} added by {who}", "Document added by {who}"),
    "document.revision_started": ("New revision started by {who}",),
    "document.text_changed": ("Text changed by {who}",),
    "document.submitted": ("Sent for approval by {who}",),
    "document.returned_to_draft": ("Returned to draft by {who}",),
    "document.effective": ("Made effective by {who}",),
    "document.superseded": ("Superseded by a newer revision",),
    # Master batch records.
    "mbr.created": (
        "Recipe {recipe} revision {revision} created by {who}",
        "Recipe created by {who}",
    ),
    "mbr.revision_started": (
        "Revision {revision} started by {who}",
        "New revision started by {who}",
    ),
    "mbr.header_changed": ("Recipe header changed by {who}",),
    "mbr.bom_added": ("Bill of materials line added by {who}",),
    "mbr.bom_changed": ("Bill of materials line changed by {who}",),
    "mbr.bom_removed": ("Bill of materials line removed by {who}",),
    "mbr.step_added": ("Step {code} added by {who}", "Step added by {who}"),
    "mbr.step_changed": ("Step {code} changed by {who}", "Step changed by {who}"),
    "mbr.step_moved": ("Step {code} moved to position {position} by {who}", "Step moved by {who}"),
    "mbr.step_removed": ("Step {was_code} removed by {who}", "Step removed by {who}"),
    "mbr.submitted": ("Sent for approval by {who}",),
    "mbr.returned_to_draft": ("Returned to draft by {who}",),
    "mbr.effective": ("Made effective by {who}",),
    "mbr.superseded": ("Superseded by a newer revision",),
    # Batches and shipping.
    "batch.created": (
        "Batch {batch_no} created from {revision} by {who}",
        "Batch created by {who}",
    ),
    "batch.excess_issue_approved": ("Issue beyond the recipe approved by {who}",),
    "batch.cancelled": ("Batch {batch_no} cancelled by {who}", "Batch cancelled by {who}"),
    "batch.started": ("Batch {batch_no} started by {who}", "Batch started by {who}"),
    "batch.held": ("Batch {batch_no} put on hold by {who}", "Batch put on hold by {who}"),
    "batch.resumed": ("Batch {batch_no} resumed by {who}", "Batch resumed by {who}"),
    "step.performed": ("Step performed by {who} — signature",),
    "step.weight_recorded": (
        "{quantity} {unit} of lot {lot} weighed ({source}) at step {step} by {who}",
        "Weighing recorded by {who}",
    ),
    "step.lot_recorded": ("Lot {lot} scanned at step {step} by {who}", "Lot scanned by {who}"),
    "step.equipment_recorded": (
        "Equipment {equipment} recorded at step {step} by {who}",
        "Equipment recorded by {who}",
    ),
    "step.verified": ("Step verified by {who} — signature",),
    "shipment.started": ("Shipment {shipment_no} started by {who}", "Shipment started by {who}"),
    "shipment.picked": ("Picked {amount} of lot {lot_code} by {who}", "Picked by {who}"),
    "shipment.unpicked": ("A picked line taken back by {who}",),
    "shipment.despatched": ("Despatched by {who}",),
}

_METHODS = {"passkey": "passkey", "password": "user ID and password"}


@dataclass(frozen=True)
class Told:
    """One event of a history with its sentence."""

    event: AuditEvent
    sentence: str


def tell(session: Session, events: Sequence[AuditEvent]) -> list[Told]:
    """The events with their sentences, the actors named by their full names (one query)."""
    names = actor_names(session, events)
    return [Told(e, describe(e, names=names)) for e in events]


def actor_names(session: Session, events: Iterable[AuditEvent]) -> dict[int, str]:
    """The full name of every person who acted in `events`, by user id."""
    ids = {e.actor_id for e in events if e.actor_id is not None}
    if not ids:
        return {}
    rows = session.exec(select(User.id, User.full_name).where(col(User.id).in_(ids)))
    return {user_id: name for user_id, name in rows if user_id is not None}


def describe(event: AuditEvent, *, names: Mapping[int, str] | None = None) -> str:
    """The event as one sentence: its entry in SENTENCES with the event's facts, or, for an
    action the table lacks, words made from the action's name."""
    return sentence_of(event, names=names) or f"{readable(event.action)} by {_who(event, names)}"


def sentence_of(event: AuditEvent, *, names: Mapping[int, str] | None = None) -> str | None:
    """The event's own sentence from SENTENCES, or None when no template of its action has the
    facts it needs (or the action has no entry)."""
    facts = _facts(event, names)
    for template in SENTENCES.get(event.action, ()):
        try:
            return template.format_map(facts)
        except (KeyError, IndexError, ValueError):
            continue
    return None


def readable(action: str) -> str:
    """An action name as words: "lot.label_printed" -> "Lot label printed"."""
    return action.replace(".", " ").replace("_", " ").strip().capitalize()


def _who(event: AuditEvent, names: Mapping[int, str] | None) -> str:
    if event.actor_id is not None and names and event.actor_id in names:
        return names[event.actor_id]
    if event.actor_username == "anonymous":
        return "no one signed in"
    if event.actor_username.startswith("cli:"):
        return f"the server's command line ({event.actor_username[4:]})"
    return event.actor_username


def _values(text: str | None) -> dict[str, Any]:
    try:
        loaded = json.loads(text) if text else {}
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _words(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_words(v) for v in value) or "none"
    return str(value)


def _plural(count: Any, one: str, many: str) -> str:
    return f"{count} {one if str(count) == '1' else many}"


class _Facts(dict[str, str]):
    """The facts a template may use; a missing one makes the template not apply."""

    def __missing__(self, key: str) -> str:
        raise KeyError(key)


def _facts(event: AuditEvent, names: Mapping[int, str] | None) -> _Facts:
    after, before = _values(event.after), _values(event.before)
    facts = _Facts({k: _words(v) for k, v in after.items()})
    facts.update({f"was_{k}": _words(v) for k, v in before.items()})
    facts["who"] = _who(event, names)
    for key in ("status", "was_status"):
        if key in facts:
            facts[key] = facts[key].replace("_", " ")
    unit = after.get("unit")
    for key, name in (
        ("quantity", "amount"),
        ("counted", "counted_amount"),
        ("book", "book_amount"),
    ):
        if unit is None or after.get(key) is None:
            continue
        try:
            facts[name] = shown(Decimal(str(after[key])), str(unit))
        except (InvalidOperation, ValueError):
            continue
    if "containers" in after:
        facts["containers_words"] = _plural(after["containers"], "container", "containers")
    if "labels" in after:
        facts["labels_words"] = _plural(after["labels"], "label", "labels")
    if "meaning" in after and after["meaning"] in Meaning._value2member_map_:
        facts["meaning"] = Meaning(after["meaning"]).label
    if "method" in after:
        facts["method"] = _METHODS.get(str(after["method"]), _words(after["method"]))
    if "within" in after:
        facts["within_words"] = "within limits" if after["within"] else "out of limits"
    return facts
