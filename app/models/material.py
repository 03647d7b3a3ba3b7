"""Materials (what is bought, made and shipped) and which suppliers deliver them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import false
from sqlmodel import Field

from app.models.base import SQLModel


class MaterialKind(StrEnum):
    RAW = "raw"
    PACKAGING = "packaging"
    INTERMEDIATE = "intermediate"
    FINISHED = "finished"
    COMPONENT = "component"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Tracking(StrEnum):
    """How each unit of a material is told apart: by lot, or each piece by its serial."""

    LOT = "lot"
    SERIAL = "serial"


class Material(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # MaterialKind
    unit: str = Field(max_length=20)  # kg, g, L, pcs ...
    gtin: str | None = Field(default=None, max_length=14, unique=True)
    allergens: str = Field(default="", max_length=400)  # comma-separated, sorted
    tracking: str = Field(default=Tracking.LOT.value, max_length=10)
    shelf_life_days: int | None = None
    # A dietary ingredient (21 CFR 111.75(a)(1)): every lot needs an identity test of our own.
    dietary_ingredient: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    active: bool = Field(default=True)
    created_at: datetime
    # FSMA 204: a food on the Food Traceability List (21 CFR 1 Subpart S), its FTL category
    # (a code of services.masterdata.materials.FTL_CATEGORIES), and the pack of the trade
    # description the shipping KDEs carry.
    on_traceability_list: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    ftl_category: str | None = Field(default=None, max_length=40)
    pack_size: str | None = Field(default=None, max_length=60)  # e.g. "25 kg", "12 x 500 g"
    pack_style: str | None = Field(default=None, max_length=60)  # e.g. "bag", "carton"


class MaterialSupplier(SQLModel, table=True):
    """An approved source of a material (the party is a supplier)."""

    __tablename__ = "material_supplier"

    id: int | None = Field(default=None, primary_key=True)
    material_id: int = Field(foreign_key="material.id", index=True)
    party_id: int = Field(foreign_key="party.id", index=True)
    created_at: datetime
    # Qualified by QA: its certificate of analysis may stand in for the tests that allow it.
    coa_qualified_at: datetime | None = None
    coa_qualified_by_id: int | None = Field(default=None, foreign_key="user_account.id")
