"""Batches (the executed record): made from an effective master batch record revision, with its
bill of materials scaled to the planned quantity and frozen at creation."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, Text
from sqlmodel import Field

from app.models.base import DecimalText, SQLModel


class BatchStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    COMPLETE = "complete"
    IN_REVIEW = "in_review"
    RELEASED = "released"
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # planned, taken back with a reason; never deleted

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Batch(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    batch_no: str = Field(max_length=40, unique=True)
    recipe_id: int = Field(foreign_key="recipe.id", index=True)
    revision_id: int = Field(foreign_key="recipe_revision.id")
    planned_quantity: Decimal = Field(sa_column=Column(DecimalText(), nullable=False))
    unit: str = Field(max_length=20)
    status: str = Field(default=BatchStatus.PLANNED.value, max_length=20)
    customer_po: str = Field(default="", max_length=60)
    due_date: date | None = None
    created_at: datetime
    created_by_id: int = Field(foreign_key="user_account.id")


class BatchMaterial(SQLModel, table=True):
    """A BOM line of the revision, scaled to the batch; never changed once the batch exists."""

    __tablename__ = "batch_material"

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    position: int
    material_id: int = Field(foreign_key="material.id")
    quantity: Decimal = Field(sa_column=Column(DecimalText(), nullable=False))
    unit: str = Field(max_length=20)
    tolerance_kind: str = Field(max_length=10)
    tolerance: Decimal = Field(sa_column=Column(DecimalText(), nullable=False))
    step_code: str | None = Field(default=None, max_length=10)


class ExcessIssueApproval(SQLModel, table=True):
    """A supervisor's approval to issue more of a BOM material to a batch than its scaled target
    and tolerance allow, with the reason: it raises the batch's issue limit by `quantity`.
    Append-only: a wrong approval is answered by QA in review, never edited away."""

    __tablename__ = "excess_issue_approval"

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    material_id: int = Field(foreign_key="material.id")
    quantity: Decimal = Field(sa_column=Column(DecimalText(), nullable=False))
    unit: str = Field(max_length=20)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    approved_at: datetime
    approved_by_id: int = Field(foreign_key="user_account.id")
