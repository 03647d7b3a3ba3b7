"""Shared metadata with a naming convention, so constraint names are stable across databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = SQLModel.metadata

__all__ = ["SQLModel", "metadata", "utcnow"]


def utcnow() -> datetime:
    """The server clock in UTC; services take `now` as an argument and default to this."""
    return datetime.now(UTC)
