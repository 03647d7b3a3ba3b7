"""Suppliers, customers and our own sites, each with the location description FSMA 204 asks
for (business name, phone, physical address, city, state/region, postal code, country) and, for
sites, the FDA facility registration number or GLN. A party can also be a TLC source (FSMA
204: where a traceability lot code was assigned), referred to by its FEI, GLN or web address."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from biip import ParseError
from biip.gln import Gln
from sqlmodel import Session, col, select

from app.models import Party, PartyKind
from app.services.core.actors import Actor
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, Rejected, Violation, require
from app.services.core.text import max_length, read_text
from app.services.masterdata import common as masterdata

FIELDS = ("business_name", "phone", "street", "city", "region", "postal_code", "country")
REQUIRED = {
    "business_name": "business name",
    "phone": "phone number",
    "street": "street address",
    "city": "city",
    "postal_code": "postal code",
}


@dataclass(frozen=True)
class PartyIn:
    code: str
    kind: str
    business_name: str
    phone: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    fda_registration: str = ""
    gln: str = ""
    fei: str = ""
    url: str = ""
    lot_is_tlc: bool = False


_values = masterdata.snapshot_of(
    "code", "kind", *FIELDS, "fda_registration", "gln", "fei", "url", "lot_is_tlc", "active"
)
_WEB_ADDRESS = re.compile(r"https?://[\x21-\x7e]+", re.IGNORECASE)


def _references(new: PartyIn, problems: list[Violation]) -> dict[str, Any]:
    """The FEI and web address a TLC source can be referred to by (both optional)."""
    fei = re.sub(r"\s", "", new.fei or "") or None
    if fei and not re.fullmatch(r"[0-9]{7,10}", fei):
        problems.append(
            Violation("fei.format", "An FDA Establishment Identifier has 7 to 10 digits.", "fei")
        )
    url = read_text(
        new.url, field="url", label="web address", problems=problems,
        limit=max_length(Party, "url"),
    )  # fmt: skip
    if url and not _WEB_ADDRESS.fullmatch(url):
        problems.append(
            Violation("url.format", "A web address starts with https:// and has no spaces.", "url")
        )
    if new.lot_is_tlc and new.kind != PartyKind.SUPPLIER:
        problems.append(
            Violation(
                "lot_is_tlc.kind",
                "Only a supplier's lot number can be its traceability lot code.",
                "lot_is_tlc",
            )
        )
    return {"fei": fei, "url": url or None, "lot_is_tlc": bool(new.lot_is_tlc)}


def _check(
    session: Session, new: PartyIn, *, current: Party | None
) -> tuple[list[Violation], dict[str, Any]]:
    code, problems = masterdata.code_problems(
        new.code,
        current=current.code if current else None,
        taken=lambda c: get_by_code(session, c),
        noun="a party",
    )
    if new.kind not in {k.value for k in PartyKind}:
        problems.append(
            Violation("kind.unknown", "Choose supplier, customer or our own site.", "kind")
        )
    texts = {
        field: read_text(
            getattr(new, field), field=field, label=REQUIRED.get(field, field.replace("_", " ")),
            problems=problems, required=field in REQUIRED,
            limit=None if field == "country" else max_length(Party, field),
        )
        for field in FIELDS
    }  # fmt: skip
    country = new.country.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        problems.append(
            Violation(
                "country.format",
                "Country is the two-letter ISO code (US, DE, IE ...).",
                "country",
            )
        )
    gln = re.sub(r"\s", "", new.gln or "") or None
    if gln:
        try:
            Gln.parse(gln)
        except ParseError as exc:
            problems.append(Violation("gln.invalid", f"Not a valid GLN: {exc}", "gln"))
    fda = re.sub(r"\s", "", new.fda_registration or "") or None
    if fda and not re.fullmatch(r"\d{11}", fda):
        problems.append(
            Violation(
                "fda_registration.format",
                "An FDA food facility registration number has 11 digits.",
                "fda_registration",
            )
        )
    values = {
        "code": code,
        "kind": new.kind,
        **{f: " ".join(texts[f].split()) for f in FIELDS},
        "country": country,
        "gln": gln,
        "fda_registration": fda,
        **_references(new, problems),
    }
    return problems, values


def get_by_code(session: Session, code: str) -> Party | None:
    return session.exec(select(Party).where(Party.code == code.strip().upper())).first()


def our_site(session: Session) -> Party:
    """Our own site (the first active one): the ship-from location and the TLC source of the
    traceability lot codes we assign.

    Raises:
        Rejected: no active site of ours is recorded.
    """
    site = session.exec(
        select(Party).where(Party.kind == PartyKind.SITE, Party.active).order_by(col(Party.id))
    ).first()
    if site is None:
        raise Rejected([Violation("site.missing", "Record our own site (with its address) first.")])
    return site


def get_party(session: Session, party_id: int) -> Party:
    """Raises NotFound."""
    party = session.get(Party, party_id)
    if party is None:
        raise NotFound(f"There is no party with id {party_id}.")
    return party


def list_parties(session: Session, *, kind: str = "") -> list[Party]:
    query = select(Party).order_by(Party.kind, Party.business_name)
    if kind:
        query = query.where(Party.kind == kind)
    return list(session.exec(query))


def create_party(session: Session, *, actor: Actor, new: PartyIn, clock: Clock) -> Party:
    """Raises PermissionDenied (admin or QA only) and Rejected (every bad field at once)."""
    masterdata.require_editor(actor)
    now = clock.now()
    problems, values = _check(session, new, current=None)
    require(problems)
    party = Party(**values, created_at=now)
    masterdata.create(
        session, actor=actor, row=party, entity_type="party", snapshot=_values, clock=clock
    )
    return party


def update_party(
    session: Session,
    *,
    actor: Actor,
    party_id: int,
    new: PartyIn,
    reason: str,
    clock: Clock,
) -> Party:
    """Change a party's details (old values and the reason stay in the audit trail).

    Raises:
        PermissionDenied, NotFound, Rejected.
    """
    masterdata.require_editor(actor)
    party = get_party(session, party_id)
    problems, values = _check(session, new, current=party)
    require(problems + masterdata.reason_problems(reason))
    masterdata.change(
        session,
        actor=actor,
        row=party,
        entity_type="party",
        values=values,
        snapshot=_values,
        reason=reason,
        clock=clock,
    )
    return party


def set_active(
    session: Session,
    *,
    actor: Actor,
    party_id: int,
    active: bool,
    reason: str,
    clock: Clock,
) -> Party:
    """Deactivate or reactivate a party. Raises PermissionDenied, NotFound, Rejected."""
    masterdata.require_editor(actor)
    party = get_party(session, party_id)
    masterdata.set_flag(
        session,
        actor=actor,
        row=party,
        entity_type="party",
        flag="active",
        value=active,
        words=("active", "deactivated"),
        actions=("reactivated", "deactivated"),
        name=party.business_name,
        reason=reason,
        clock=clock,
    )
    return party
