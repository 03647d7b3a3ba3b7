"""The despatch advice of a shipment with the FSMA 204 shipping key data elements (JSON, CSV)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.models import (
    Party,
    Shipment,
)
from app.services.core import spreadsheet
from app.services.warehouse import shipping


def _location(party: Party) -> dict[str, Any]:
    """The FSMA 204 location description."""
    return {
        "business_name": party.business_name,
        "phone": party.phone,
        "street": party.street,
        "city": party.city,
        "region": party.region,
        "postal_code": party.postal_code,
        "country": party.country,
        "fda_registration": party.fda_registration,
        "gln": party.gln,
    }


def despatch_advice(session: Session, shipment: Shipment) -> dict[str, Any]:
    """The despatch advice (ASN) with the FSMA 204 shipping key data elements per lot."""
    customer = session.get(Party, shipment.customer_id)
    site = session.get(Party, shipment.ship_from_id)
    assert customer is not None
    assert site is not None
    items = []
    for line, lot, material in shipping.lines(session, shipment):
        source = session.get(Party, lot.supplier_id) if lot.supplier_id else site
        items.append(
            {
                "traceability_lot_code": lot.lot_code,
                "product_description": material.name,
                "product_code": material.code,
                "gtin": material.gtin,
                "quantity": line.quantity,
                "unit": line.unit,
                "expiry": lot.expiry,
                "tlc_source": _location(source) if source else None,
            }
        )
    return {
        "document_type": "Despatch advice",
        "shipment_no": shipment.shipment_no,
        "reference": shipment.reference,
        "status": shipment.status,
        "ship_date": shipment.shipped_at.date() if shipment.shipped_at else None,
        "ship_from": _location(site),
        "ship_to": _location(customer),
        "lines": items,
    }


CSV_COLUMNS = (
    "shipment_no", "ship_date", "reference", "traceability_lot_code", "product_code",
    "product_description", "gtin", "quantity", "unit", "expiry", "ship_to", "ship_to_address",
    "ship_from", "ship_from_address", "tlc_source",
)  # fmt: skip


def _address(loc: dict[str, Any] | None) -> str:
    if not loc:
        return ""
    parts = (loc["street"], loc["postal_code"], loc["city"], loc["region"], loc["country"])
    return ", ".join(p for p in parts if p)


def despatch_advice_csv(advice: dict[str, Any]) -> str:
    """One row per lot, every KDE in its own column (sortable in a spreadsheet)."""
    rows = (
            [
                advice["shipment_no"], advice["ship_date"] or "", advice["reference"],
                item["traceability_lot_code"], item["product_code"], item["product_description"],
                item["gtin"] or "", item["quantity"], item["unit"], item["expiry"] or "",
                advice["ship_to"]["business_name"], _address(advice["ship_to"]),
                advice["ship_from"]["business_name"], _address(advice["ship_from"]),
                (item["tlc_source"] or {}).get("business_name", ""),
            ]
        for item in advice["lines"]
    )  # fmt: skip
    return spreadsheet.csv_text(CSV_COLUMNS, rows)
