"""The executed record's steps: one row per step of the batch's frozen revision, made when the
batch starts. A step moves open -> performed (its performer's signature) -> verified (a second
person's signature, where the master record asks for one); never back, never deleted."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field

from app.models.base import SQLModel


class StepState(StrEnum):
    OPEN = "open"
    PERFORMED = "performed"
    VERIFIED = "verified"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class StepExecution(SQLModel, table=True):
    __tablename__ = "step_execution"
    __table_args__ = (UniqueConstraint("batch_id", "step_id"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    step_id: int = Field(foreign_key="recipe_step.id")
    position: int
    status: str = Field(default=StepState.OPEN.value, max_length=20)
    performed_at: datetime | None = None
    performed_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    verified_at: datetime | None = None
    verified_by_id: int | None = Field(default=None, foreign_key="user_account.id")


class EntryKind(StrEnum):
    EQUIPMENT = "equipment"
    LOT = "lot"
    WEIGHT = "weight"
    VALUE = "value"
    SERIAL = "serial"


class EntrySource(StrEnum):
    SCANNED = "scanned"
    MANUAL = "manual"
    DEVICE = "device"  # captured from a bridge, signed by it


class StepEntry(SQLModel, table=True):
    """One thing a step captured (the equipment used, a lot, a weight, a value, a serial), with
    where it came from and the evidence each gate relied on when it was allowed (JSON). Never
    changed: a correction is a new entry that supersedes it, with a reason."""

    __tablename__ = "step_entry"

    id: int | None = Field(default=None, primary_key=True)
    step_execution_id: int = Field(foreign_key="step_execution.id", index=True)
    kind: str = Field(max_length=20)  # EntryKind
    subject: str = Field(max_length=80)  # equipment code, lot code, limit name...
    value: str = Field(default="", max_length=80)
    unit: str = Field(default="", max_length=20)
    source: str = Field(max_length=20)  # EntrySource
    within_limits: bool | None = None
    evidence: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    supersedes_id: int | None = Field(default=None, foreign_key="step_entry.id")
    reason: str | None = Field(default=None, sa_column=Column(Text))
    recorded_at: datetime
    recorded_by_id: int = Field(foreign_key="user_account.id")
