"""The append-only, hash-chained audit trail (DESIGN §7), written only by services.audit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field

from app.models.base import SQLModel


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_entity", "entity_type", "entity_id"),
        Index("ix_audit_event_actor", "actor_username"),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime
    # The username is copied, so the trail reads the same after any later change to the user.
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor_username: str = Field(max_length=64)
    action: str = Field(max_length=80)
    entity_type: str = Field(max_length=60)
    entity_id: str = Field(max_length=120)
    before: str | None = Field(default=None, sa_column=Column(Text))  # canonical JSON
    after: str | None = Field(default=None, sa_column=Column(Text))  # canonical JSON
    reason: str | None = Field(default=None, sa_column=Column(Text))
    prev_hash: str = Field(max_length=64)
    row_hash: str = Field(max_length=64, unique=True)
