"""Master batch records: a recipe per product, its revisions, their BOM lines, steps and limits.

A revision is edited only while it is a draft; from review on it is frozen, and once effective
or superseded the database itself refuses any change (triggers in the migration).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field

from app.models.base import DecimalText, SQLModel


class RevisionStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    EFFECTIVE = "effective"
    SUPERSEDED = "superseded"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class StepKind(StrEnum):
    INSTRUCTION = "instruction"
    WEIGH = "weigh"
    MATERIAL_SCAN = "material_scan"
    RECORD_VALUES = "record_values"
    EQUIPMENT_CHECK = "equipment_check"
    SERIAL_CAPTURE = "serial_capture"
    UNIT_TEST = "unit_test"
    LABEL_PRINT = "label_print"
    VERIFICATION = "verification"
    QA_HOLD = "qa_hold"

    @property
    def label(self) -> str:
        return STEP_KIND_LABELS[self]

    @property
    def has_limits(self) -> bool:
        return self in (StepKind.RECORD_VALUES, StepKind.UNIT_TEST)


STEP_KIND_LABELS = {
    StepKind.INSTRUCTION: "Instruction",
    StepKind.WEIGH: "Weigh / dispense",
    StepKind.MATERIAL_SCAN: "Material scan",
    StepKind.RECORD_VALUES: "Record values",
    StepKind.EQUIPMENT_CHECK: "Equipment check",
    StepKind.SERIAL_CAPTURE: "Serial capture",
    StepKind.UNIT_TEST: "Per-unit test",
    StepKind.LABEL_PRINT: "Label print",
    StepKind.VERIFICATION: "Second-person verification",
    StepKind.QA_HOLD: "QA hold point",
}


class ToleranceKind(StrEnum):
    PERCENT = "percent"
    ABSOLUTE = "absolute"


class Recipe(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)  # the product code, e.g. VC500
    name: str = Field(max_length=200)
    product_material_id: int | None = Field(default=None, foreign_key="material.id")
    created_at: datetime


class RecipeRevision(SQLModel, table=True):
    __tablename__ = "recipe_revision"
    __table_args__ = (UniqueConstraint("recipe_id", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    recipe_id: int = Field(foreign_key="recipe.id", index=True)
    revision: str = Field(max_length=10)  # A, B, C ...
    status: str = Field(default=RevisionStatus.DRAFT.value, max_length=20)
    batch_size: Decimal = Field(sa_column=Column(DecimalText(), nullable=False))
    batch_unit: str = Field(max_length=20)
    drawing_revision: str = Field(default="", max_length=40)
    sop_codes: str = Field(default="", max_length=400)  # comma-separated document codes
    change_note: str = Field(default="", sa_column=Column(Text, nullable=False))
    based_on_id: int | None = Field(default=None, foreign_key="recipe_revision.id")
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime
    submitted_at: datetime | None = None
    effective_at: datetime | None = None
    superseded_at: datetime | None = None


class RecipeStep(SQLModel, table=True):
    __tablename__ = "recipe_step"
    __table_args__ = (UniqueConstraint("revision_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="recipe_revision.id", index=True)
    position: int
    code: str = Field(max_length=10)  # operation number (10, 20, ...): stable across revisions
    kind: str = Field(max_length=20)  # StepKind
    title: str = Field(max_length=200)
    instruction: str = Field(default="", sa_column=Column(Text, nullable=False))
    equipment_kind: str | None = Field(default=None, max_length=20)
    training_code: str | None = Field(default=None, max_length=40)  # a curriculum code
    per_unit: bool = Field(default=False)
    verification_required: bool = Field(default=False)


class StepLimit(SQLModel, table=True):
    """A value a step records, with its unit and acceptance limits (inclusive)."""

    __tablename__ = "step_limit"

    id: int | None = Field(default=None, primary_key=True)
    step_id: int = Field(foreign_key="recipe_step.id", index=True)
    position: int
    name: str = Field(max_length=80)
    unit: str = Field(default="", max_length=20)
    low: Decimal | None = Field(default=None, sa_column=Column(DecimalText(), nullable=True))
    high: Decimal | None = Field(default=None, sa_column=Column(DecimalText(), nullable=True))


class BomLine(SQLModel, table=True):
    __tablename__ = "bom_line"

    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="recipe_revision.id", index=True)
    position: int
    material_id: int = Field(foreign_key="material.id")
    quantity: Decimal = Field(sa_column=Column(DecimalText(), nullable=False))
    unit: str = Field(max_length=20)
    tolerance_kind: str = Field(default=ToleranceKind.PERCENT.value, max_length=10)
    tolerance: Decimal = Field(sa_column=Column(DecimalText(), nullable=False))
    step_code: str | None = Field(default=None, max_length=10)  # the step that consumes it
