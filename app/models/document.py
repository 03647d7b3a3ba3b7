"""Controlled documents (SOPs): a document and its revisions, each approved before it is in force.

A revision's text is written only while it is a draft. Sending it to review freezes it; a QA
person other than its author approves it by signature, which makes it effective and supersedes
the revision in force before. Frozen text never changes (the database refuses too): a change is
always a new revision, and the old ones stay readable.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field

from app.models.base import SQLModel
from app.models.recipe import RevisionStatus


class Document(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)  # also the code of its training curriculum
    title: str = Field(max_length=200)


class DocumentRevision(SQLModel, table=True):
    __tablename__ = "document_revision"
    __table_args__ = (UniqueConstraint("document_id", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    revision: str = Field(max_length=20)
    status: str = Field(default=RevisionStatus.DRAFT.value, max_length=20)
    body: str = Field(sa_column=Column(Text, nullable=False))
    change_note: str = Field(default="", sa_column=Column(Text, nullable=False))
    # None: in force before revision control (brought in by the migration, unsigned).
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime
    submitted_at: datetime | None = None
    effective_at: datetime | None = None
    # The plant's date it came into force: training dated before it was on an older revision.
    effective_on: date | None = None
    superseded_at: datetime | None = None
