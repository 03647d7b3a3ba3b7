"""The despatch advice of a shipment with the FSMA 204 shipping key data elements (JSON, CSV).

21 CFR 1.1340: for each traceability lot shipped, the TLC, quantity and unit, the product
description (category code and name, trade description with pack size and style), the location
descriptions of the recipient and of where it ships from (business name, phone, address), the
ship date, the TLC source's location description or reference, and the reference document's
type and number. Items (1)-(7) are sent to the recipient.

What was sent is what stays on record: at despatch the advice is frozen (`freeze`) as canonical
JSON with its SHA-256 in the append-only `despatch_advice` table, and every later view or export
of a shipped shipment reads that row, never today's parties and materials. An export whose row
no longer matches its hash is refused with the reason (`AdviceTampered`), never sent on.

A line of a lot that is not a finished good carries `reason_shipped`, why it ships to a customer
(shipping.sold_to_customers); the key is there only on such lines, so the format stays 1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from app.canonical import canonical_json, sha256_hex
from app.models import (
    DespatchAdvice,
    Lot,
    Material,
    MaterialKind,
    Party,
    Shipment,
    ShipmentStatus,
)
from app.services.core import spreadsheet
from app.services.core.clock import Clock
from app.services.core.errors import Conflict, NotFound
from app.services.masterdata.materials import FTL_CATEGORIES
from app.services.warehouse import shipping

DOCUMENT_TYPE = "Despatch advice"
FORMAT = 1  # the shape of a frozen advice written at despatch (0: taken over from the trail)


class AdviceTampered(Conflict):
    """A frozen despatch advice no longer matches the hash it was stored with."""


def _location(party: Party) -> dict[str, Any]:
    """The FSMA 204 location description, with the references the party can be named by."""
    return {
        "business_name": party.business_name,
        "phone": party.phone,
        "street": party.street,
        "city": party.city,
        "region": party.region,
        "postal_code": party.postal_code,
        "country": party.country,
        "fda_registration": party.fda_registration,
        "fei": party.fei,
        "gln": party.gln,
        "url": party.url,
    }


def _product(material: Material) -> dict[str, Any]:
    """The FSMA 204 product description: category code and name, trade description, pack."""
    if material.on_traceability_list and material.ftl_category:
        category_code = material.ftl_category
        category = FTL_CATEGORIES.get(material.ftl_category, material.ftl_category)
    else:
        category_code, category = None, MaterialKind(material.kind).label
    return {
        "product_code": material.code,
        "product_description": material.name,
        "product_category_code": category_code,
        "product_category": category,
        "food_traceability_list": material.on_traceability_list,
        "pack_size": material.pack_size,
        "pack_style": material.pack_style,
        "gtin": material.gtin,
    }


def _line(
    session: Session,
    quantity: Decimal,
    unit: str,
    lot: Lot,
    material: Material,
    reason: str | None = None,
) -> dict[str, Any]:
    source = session.get(Party, lot.tlc_source_id) if lot.tlc_source_id else None
    extra = {"reason_shipped": reason} if reason else {}
    return {
        "traceability_lot_code": lot.tlc,
        "lot_code": lot.lot_code,
        **_product(material),
        "quantity": quantity,
        "unit": unit,
        "expiry": lot.expiry,
        "tlc_source": _location(source) if source else None,
        "tlc_source_reference": lot.tlc_source_reference,
        **extra,
    }


def current_advice(session: Session, shipment: Shipment, clock: Clock) -> dict[str, Any]:
    """The advice as today's records give it (what `freeze` keeps at despatch; a shipment
    still being picked shows this one)."""
    customer = session.get(Party, shipment.customer_id)
    site = session.get(Party, shipment.ship_from_id)
    assert customer is not None
    assert site is not None
    return {
        "format": FORMAT,
        "document_type": DOCUMENT_TYPE,
        "reference_document": {"type": DOCUMENT_TYPE, "number": shipment.shipment_no},
        "shipment_no": shipment.shipment_no,
        "reference": shipment.reference,  # the customer's PO
        "status": shipment.status,
        # The plant's date, not the UTC one: a 7 pm despatch in Chicago ships that day.
        "ship_date": clock.date_of(shipment.shipped_at) if shipment.shipped_at else None,
        "shipped_at": shipment.shipped_at,
        "ship_from": _location(site),
        "ship_to": _location(customer),
        "lines": [
            _line(session, line.quantity, line.unit, lot, material, line.pick_reason)
            for line, lot, material in shipping.lines(session, shipment)
        ],
    }


def freeze(session: Session, shipment: Shipment, clock: Clock) -> DespatchAdvice:
    """Keep the advice of a shipment being despatched as it is sent: canonical JSON and its
    SHA-256 in an append-only row (the caller holds the shipment's lock and audits)."""
    content = canonical_json(current_advice(session, shipment, clock))
    frozen = DespatchAdvice(
        shipment_id=shipment.id,  # type: ignore[arg-type]
        format=FORMAT,
        content=content,
        sha256=sha256_hex(content),
        created_at=clock.now(),
    )
    session.add(frozen)
    session.flush()
    return frozen


@dataclass(frozen=True)
class Advice:
    """A shipment's advice as shown: frozen (and whether it still matches its hash) or not."""

    content: dict[str, Any]
    frozen: DespatchAdvice | None = None
    intact: bool = True

    @property
    def problem(self) -> str | None:
        if self.intact or self.frozen is None:
            return None
        return (
            f"The stored despatch advice of {self.content.get('shipment_no', 'this shipment')} "
            f"does not match the SHA-256 it was frozen with ({self.frozen.sha256[:12]}...): it "
            "was changed after despatch. It is not exported; report this to QA."
        )


def despatch_advice(session: Session, shipment: Shipment, clock: Clock) -> Advice:
    """The advice of a shipment: for a shipped one the frozen row, checked against its hash;
    while picking, what today's records give."""
    frozen = session.exec(
        select(DespatchAdvice).where(DespatchAdvice.shipment_id == shipment.id)
    ).first()
    if frozen is None:
        if shipment.status == ShipmentStatus.SHIPPED:
            raise Conflict(
                f"Shipment {shipment.shipment_no} shipped, but no despatch advice was kept."
            )
        return Advice(current_advice(session, shipment, clock))
    try:
        content = json.loads(frozen.content)
    except ValueError:
        content = {"shipment_no": shipment.shipment_no, "lines": []}
    intact = sha256_hex(frozen.content) == frozen.sha256
    return Advice(content if isinstance(content, dict) else {}, frozen, intact)


def export(session: Session, shipment: Shipment, clock: Clock) -> Advice:
    """The advice to send or hand over: the frozen one, only if it matches its hash.

    Raises:
        AdviceTampered: the stored advice was changed after despatch (the sentence says so).
        Conflict: shipped without a frozen advice.
    """
    advice = despatch_advice(session, shipment, clock)
    if advice.problem:
        raise AdviceTampered(advice.problem)
    return advice


def as_sent(session: Session, shipment: Shipment, clock: Clock) -> Advice:
    """The advice a despatched shipment was sent with, to print: the frozen row, read as it
    is (never rebuilt from today's records), only if it matches its hash.

    Raises:
        NotFound: the shipment has not been despatched (its advice is written at despatch).
        AdviceTampered: the stored advice was changed after despatch.
        Conflict: shipped without a frozen advice.
    """
    if shipment.status != ShipmentStatus.SHIPPED:
        raise NotFound(
            f"Shipment {shipment.shipment_no} has not been despatched yet; its despatch "
            "advice is written when it is."
        )
    return export(session, shipment, clock)


# The FSMA 204 shipping KDEs, one value per cell, named as REGULATORY.md's sortable spreadsheet.
_PLACE = ("name", "phone", "address", "city", "state", "zip", "country")
CSV_COLUMNS = (
    "Event ID", "CTE type", "TLC", "Quantity", "UOM",
    "Product category code", "Product category name", "Product description", "Product code",
    "GTIN", "Pack size", "Pack style", "Event date",
    *(f"Event location {p}" for p in _PLACE),
    *(f"Immediate subsequent recipient {p}" for p in _PLACE),
    *(f"TLC source location {p}" for p in _PLACE),
    "TLC source reference", "Reference document type", "Reference document number",
    "Customer reference", "Internal lot code", "Expiry", "Reason shipped",
)  # fmt: skip


def _place(loc: dict[str, Any] | None) -> list[Any]:
    if not loc:
        return [""] * len(_PLACE)
    return [
        loc.get("business_name") or "",
        loc.get("phone") or "",
        loc.get("street") or "",
        loc.get("city") or "",
        loc.get("region") or "",
        loc.get("postal_code") or "",
        loc.get("country") or "",
    ]


def _source_reference(item: dict[str, Any]) -> str:
    """The TLC source reference given on receipt, else the source's own references."""
    if item.get("tlc_source_reference"):
        return str(item["tlc_source_reference"])
    source = item.get("tlc_source") or {}
    named = (("FFRN", "fda_registration"), ("FEI", "fei"), ("GLN", "gln"), ("URL", "url"))
    return "; ".join(f"{word} {source[key]}" for word, key in named if source.get(key))


def despatch_advice_csv(advice: dict[str, Any]) -> str:
    """One row per lot shipped, every KDE in its own column (sortable in a spreadsheet).
    Reads the advice's own content only, so a frozen advice exports as it was sent."""
    reference = advice.get("reference_document") or {}
    rows = (
        [
            advice.get("shipment_no", ""), "Shipping", item.get("traceability_lot_code") or "",
            item.get("quantity", ""), item.get("unit", ""),
            item.get("product_category_code") or "", item.get("product_category") or "",
            item.get("product_description", ""), item.get("product_code", ""),
            item.get("gtin") or "", item.get("pack_size") or "", item.get("pack_style") or "",
            advice.get("ship_date") or "",
            *_place(advice.get("ship_from")), *_place(advice.get("ship_to")),
            *_place(item.get("tlc_source")), _source_reference(item),
            reference.get("type", advice.get("document_type", DOCUMENT_TYPE)),
            reference.get("number", advice.get("shipment_no", "")),
            advice.get("reference", ""), item.get("lot_code", ""), item.get("expiry") or "",
            item.get("reason_shipped") or "",
        ]
        for item in advice.get("lines", [])
    )  # fmt: skip
    return spreadsheet.csv_text(CSV_COLUMNS, rows)
