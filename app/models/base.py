"""Shared metadata with a naming convention, so constraint names are stable across databases."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Dialect, String, TypeDecorator
from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = SQLModel.metadata

__all__ = ["DecimalText", "SQLModel", "metadata"]


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal kept as its text ("55.0", "0.50"): the same on SQLite and PostgreSQL,
    written precision preserved, never a float on the way."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return str(Decimal(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)
