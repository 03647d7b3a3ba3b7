"""QC evidence for a lot: the material's specification, samples, results and certificates.

A specification is the list of tests a lot of a material must pass before release. Results are
never changed: a wrong one is superseded by a later result with a reason. A certificate of
analysis (COA) is kept as the file the supplier sent, with its SHA-256, and may stand in for a
test only where the specification allows it and the supplier is qualified for that material.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field

from app.models.base import DecimalText, SQLModel


class SpecKind(StrEnum):
    RANGE = "range"  # a number within low..high (either may be open)
    EXPECTED = "expected"  # an expected result, e.g. "conforms"


class ResultSource(StrEnum):
    LAB = "lab"  # tested here, on a sample
    COA = "coa"  # taken from the supplier's certificate of analysis


class SpecTest(SQLModel, table=True):
    """One required test of a material's specification; retired (never deleted) when it goes."""

    __tablename__ = "spec_test"

    id: int | None = Field(default=None, primary_key=True)
    material_id: int = Field(foreign_key="material.id", index=True)
    name: str = Field(max_length=80)  # "Identity", "Assay"
    method: str = Field(max_length=80)  # "FTIR", "HPLC (USP <621>)"
    kind: str = Field(max_length=10)  # SpecKind
    low: Decimal | None = Field(default=None, sa_column=Column(DecimalText(), nullable=True))
    high: Decimal | None = Field(default=None, sa_column=Column(DecimalText(), nullable=True))
    unit: str = Field(default="", max_length=20)
    expected: str = Field(default="", max_length=80)
    identity: bool = Field(default=False)
    coa_allowed: bool = Field(default=False)
    created_at: datetime
    created_by_id: int = Field(foreign_key="user_account.id")
    retired_at: datetime | None = None
    retired_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    retired_reason: str | None = Field(default=None, sa_column=Column(Text))


class LotSample(SQLModel, table=True):
    __tablename__ = "lot_sample"

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id", index=True)
    containers: int
    note: str = Field(default="", max_length=200)
    taken_at: datetime
    taken_by_id: int = Field(foreign_key="user_account.id")


class Certificate(SQLModel, table=True):
    """A supplier's certificate of analysis for a lot, as the file it came in."""

    __tablename__ = "certificate_of_analysis"

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id", index=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=60)
    sha256: str = Field(max_length=64)
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    attached_at: datetime
    attached_by_id: int = Field(foreign_key="user_account.id")


class QcResult(SQLModel, table=True):
    """A result for one test of a lot; the newest that no later one supersedes counts."""

    __tablename__ = "qc_result"

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id", index=True)
    spec_test_id: int = Field(foreign_key="spec_test.id")
    source: str = Field(max_length=10)  # ResultSource
    value: str = Field(max_length=80)  # as entered: "99.6" or "conforms"
    within: bool
    sample_id: int | None = Field(default=None, foreign_key="lot_sample.id")
    certificate_id: int | None = Field(default=None, foreign_key="certificate_of_analysis.id")
    supersedes_id: int | None = Field(default=None, foreign_key="qc_result.id")
    reason: str | None = Field(default=None, sa_column=Column(Text))
    recorded_at: datetime
    recorded_by_id: int = Field(foreign_key="user_account.id")
