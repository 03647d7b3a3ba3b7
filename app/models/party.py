"""Suppliers, customers and our own sites, with the location description FSMA 204 asks for."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from app.models.base import SQLModel


class PartyKind(StrEnum):
    SUPPLIER = "supplier"
    CUSTOMER = "customer"
    SITE = "site"

    @property
    def label(self) -> str:
        return {"site": "Our site"}.get(self.value, self.value.capitalize())


class Party(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    kind: str = Field(max_length=20)  # PartyKind
    business_name: str = Field(max_length=200)
    phone: str = Field(max_length=40)
    street: str = Field(max_length=200)
    city: str = Field(max_length=100)
    region: str = Field(default="", max_length=100)  # state / region
    postal_code: str = Field(max_length=20)
    country: str = Field(max_length=2)  # ISO 3166-1 alpha-2
    fda_registration: str | None = Field(default=None, max_length=20)
    gln: str | None = Field(default=None, max_length=13)
    active: bool = Field(default=True)
    created_at: datetime
    # TLC source references (FSMA 204): the FDA Establishment Identifier and a web address
    # where the location is described, besides the food facility registration and the GLN.
    fei: str | None = Field(default=None, max_length=10)
    url: str | None = Field(default=None, max_length=200)
    # A supplier that declares its lot number (GS1 AI 10) to be the traceability lot code it
    # assigned: a receipt of its lot keeps that lot number as the TLC, the supplier as source.
    lot_is_tlc: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
