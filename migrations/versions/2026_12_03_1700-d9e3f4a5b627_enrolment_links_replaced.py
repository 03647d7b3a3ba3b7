"""Enrolment links: a newer link for the same person replaces the older ones.

Revision ID: d9e3f4a5b627
Revises: c8d2e3f4a516
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.migrate import create_guards, drop_guards

revision: str = "d9e3f4a5b627"
down_revision: str | Sequence[str] | None = "c8d2e3f4a516"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_GUARDED = {"enrolment_link": "DELETE"}


def upgrade() -> None:
    # A plain ADD COLUMN: the table is not rebuilt, so its delete guard stays in place.
    op.add_column(
        "enrolment_link",
        sa.Column("replaced_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    drop_guards(_GUARDED)  # SQLite rebuilds the table to drop a column: put the guard back after
    with op.batch_alter_table("enrolment_link", schema=None) as batch_op:
        batch_op.drop_column("replaced_at")
    create_guards(_GUARDED)
