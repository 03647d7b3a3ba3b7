"""The executed record's steps: one row per step of the batch's frozen revision, made when the
batch starts. A step moves open -> performed (its performer's signature) -> verified (a second
person's signature, where the master record asks for one); never back, never deleted."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
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
