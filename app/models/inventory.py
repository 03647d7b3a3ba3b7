"""Lots, the stock ledger of their movements, and the one-time keys of floor forms.

A lot's balance is the sum of its movements; movements are never changed or deleted (a wrong
one is corrected by an adjustment with a reason). A lot's status changes only through the
inventory service, with a signature for QC decisions.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, Text
from sqlmodel import Field

from app.models.base import DecimalText, SQLModel


class LotStatus(StrEnum):
    QUARANTINE = "quarantine"
    RELEASED = "released"
    REJECTED = "rejected"
    ON_HOLD = "on_hold"

    @property
    def label(self) -> str:
        return {"on_hold": "On hold"}.get(self.value, self.value.capitalize())


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    ISSUE = "issue"
    RETURN = "return"
    ADJUSTMENT = "adjustment"
    PRODUCTION = "production"
    SHIPMENT = "shipment"


class Lot(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    lot_code: str = Field(max_length=40, unique=True)  # our internal lot code, on our label
    material_id: int = Field(foreign_key="material.id", index=True)
    supplier_id: int | None = Field(default=None, foreign_key="party.id")
    supplier_lot: str = Field(default="", max_length=60)
    gtin: str | None = Field(default=None, max_length=14)  # as scanned from the supplier label
    expiry: date | None = None
    status: str = Field(default=LotStatus.QUARANTINE.value, max_length=20)
    held_from: str | None = Field(default=None, max_length=20)  # status to return to after a hold
    unit: str = Field(max_length=20)
    containers: int = Field(default=1)
    received_at: datetime
    received_by_id: int = Field(foreign_key="user_account.id")
    # FSMA 204 traceability lot code, beside our internal lot code: the supplier's as received
    # (never replaced by ours), or one we assigned when we transformed the food or received it
    # from an exempt source without one. The TLC source is where it was assigned: a party with
    # its location description, or a reference (FEI, GLN, web address) when only that is known.
    tlc: str | None = Field(default=None, max_length=60, index=True)
    tlc_source_id: int | None = Field(default=None, foreign_key="party.id")
    tlc_source_reference: str | None = Field(default=None, max_length=200)


class InventoryMovement(SQLModel, table=True):
    __tablename__ = "inventory_movement"

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id", index=True)
    kind: str = Field(max_length=20)  # MovementKind
    quantity: Decimal = Field(sa_column=Column(DecimalText(), nullable=False))  # signed
    unit: str = Field(max_length=20)
    batch_id: int | None = Field(default=None, foreign_key="batch.id", index=True)
    reference: str = Field(default="", max_length=120)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    at: datetime
    by_id: int = Field(foreign_key="user_account.id")


class Submission(SQLModel, table=True):
    """A floor form's one-time key: the same form submitted twice is recorded once."""

    key: str = Field(primary_key=True, max_length=64)
    form: str = Field(max_length=40)
    user_id: int = Field(foreign_key="user_account.id")
    result: str = Field(max_length=200)  # what the first submission made, e.g. "lot:12"
    at: datetime


class ShipmentStatus(StrEnum):
    PICKING = "picking"
    SHIPPED = "shipped"


class Shipment(SQLModel, table=True):
    """A despatch to a customer location: picked by scanning, then shipped in one step."""

    id: int | None = Field(default=None, primary_key=True)
    shipment_no: str = Field(max_length=40, unique=True)
    customer_id: int = Field(foreign_key="party.id")
    ship_from_id: int = Field(foreign_key="party.id")  # our site
    reference: str = Field(default="", max_length=80)  # the customer's PO
    status: str = Field(default=ShipmentStatus.PICKING.value, max_length=20)
    created_at: datetime
    created_by_id: int = Field(foreign_key="user_account.id")
    shipped_at: datetime | None = None
    shipped_by_id: int | None = Field(default=None, foreign_key="user_account.id")


class ShipmentLine(SQLModel, table=True):
    __tablename__ = "shipment_line"

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id", index=True)
    lot_id: int = Field(foreign_key="lot.id", index=True)
    quantity: Decimal = Field(sa_column=Column(DecimalText(), nullable=False))
    unit: str = Field(max_length=20)
    scanned: str = Field(default="", max_length=200)  # what the scanner read
    added_at: datetime
    removed_at: datetime | None = None  # a mis-pick taken off before despatch, with a reason
    removed_reason: str | None = Field(default=None, sa_column=Column(Text))
    # Why a lot that is not a finished good ships to a customer (shipping.sold_to_customers).
    pick_reason: str | None = Field(default=None, sa_column=Column(Text))


class DespatchAdvice(SQLModel, table=True):
    """The despatch advice of a shipment as sent, frozen at despatch (append-only).

    `content` is the canonical JSON of the advice (parties, locations, product descriptions,
    TLCs as they were when the goods left) and `sha256` its hash: every later export reads
    this row, never today's master data, and is refused if the content no longer matches.
    """

    __tablename__ = "despatch_advice"

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id", unique=True)
    format: int  # 1: written at despatch; 0: taken over from the despatch's audit event
    content: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64)
    created_at: datetime


class NumberSequence(SQLModel, table=True):
    """The last number handed out under a prefix (e.g. "ASC-2612-", "SH-261203-")."""

    __tablename__ = "number_sequence"

    prefix: str = Field(primary_key=True, max_length=40)
    last_value: int = Field(default=0)


class LotCorrection(SQLModel, table=True):
    """A receipt fact corrected with a reason: the old value stays here, shown struck through."""

    __tablename__ = "lot_correction"

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id", index=True)
    field: str = Field(max_length=20)  # expiry | supplier_lot | quantity
    old_value: str = Field(max_length=60)
    new_value: str = Field(max_length=60)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    movement_id: int | None = Field(default=None, foreign_key="inventory_movement.id")
    corrected_at: datetime
    corrected_by_id: int = Field(foreign_key="user_account.id")


class AdjustmentStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"


class StockAdjustment(SQLModel, table=True):
    """A stock count that differs from the book: proposed by the warehouse with a reason, moved
    into the ledger only when QA approves it by signature."""

    __tablename__ = "stock_adjustment"

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id", index=True)
    counted: Decimal = Field(sa_column=Column(DecimalText(), nullable=False))
    book: Decimal = Field(sa_column=Column(DecimalText(), nullable=False))  # balance when counted
    unit: str = Field(max_length=20)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=AdjustmentStatus.PROPOSED.value, max_length=20)
    proposed_at: datetime
    proposed_by_id: int = Field(foreign_key="user_account.id")
    movement_id: int | None = Field(default=None, foreign_key="inventory_movement.id")
