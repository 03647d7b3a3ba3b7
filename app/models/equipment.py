"""Equipment with its calibration and cleaning history. Status is derived, never stored."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Text
from sqlmodel import Field

from app.models.base import SQLModel


class EquipmentKind(StrEnum):
    SCALE = "scale"
    BLENDER = "blender"
    PRESS = "press"
    TEST_RIG = "test_rig"
    GAUGE = "gauge"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Equipment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # EquipmentKind
    in_service: bool = Field(default=True)
    needs_cleaning: bool = Field(default=True)  # product-contact equipment (line clearance)
    clean_hold_hours: int = Field(default=72)  # "clean" expires after this
    active: bool = Field(default=True)
    created_at: datetime


class CalibrationEvent(SQLModel, table=True):
    __tablename__ = "calibration_event"

    id: int | None = Field(default=None, primary_key=True)
    equipment_id: int = Field(foreign_key="equipment.id", index=True)
    certificate: str = Field(max_length=80)  # calibration / certificate ID
    performed_on: date
    due_on: date
    recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    recorded_at: datetime
    note: str | None = Field(default=None, sa_column=Column(Text))


class CleaningEvent(SQLModel, table=True):
    __tablename__ = "cleaning_event"

    id: int | None = Field(default=None, primary_key=True)
    equipment_id: int = Field(foreign_key="equipment.id", index=True)
    cleaned_at: datetime
    cleaned_by_id: int = Field(foreign_key="user_account.id")
    last_product: str = Field(default="", max_length=40)  # product run before the cleaning
    recorded_at: datetime
    note: str | None = Field(default=None, sa_column=Column(Text))
