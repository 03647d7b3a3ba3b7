"""Training: curricula (an SOP or an MBR) and each person's dated training records."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text
from sqlmodel import Field

from app.models.base import SQLModel


class Curriculum(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)  # an SOP code or a product (MBR) code
    title: str = Field(max_length=200)
    kind: str = Field(max_length=10)  # "sop" | "mbr"
    validity_days: int = Field(default=365)
    created_at: datetime


class TrainingRecord(SQLModel, table=True):
    """One training event; the newest record per person and curriculum is the one that counts."""

    __tablename__ = "training_record"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    curriculum_id: int = Field(foreign_key="curriculum.id", index=True)
    trained_on: date
    expires_on: date
    recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    recorded_at: datetime
    note: str | None = Field(default=None, sa_column=Column(Text))
    # Why a new record was made while an earlier one was still valid (it never replaces it).
    reason: str | None = Field(default=None, sa_column=Column(Text))
