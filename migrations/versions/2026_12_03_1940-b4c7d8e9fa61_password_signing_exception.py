"""A time-limited exception that lets a person with a passkey sign with user ID and password.

Revision ID: b4c7d8e9fa61
Revises: a3b6c7d8e950
Create Date: 2026-12-03 19:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "b4c7d8e9fa61"
down_revision: str | Sequence[str] | None = "a3b6c7d8e950"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: the table is not rebuilt, so its delete guard stays in place.
    op.add_column(
        "user_account",
        sa.Column("password_signing_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    from app.migrate import create_guards, drop_guards

    guarded = {"user_account": "DELETE"}
    drop_guards(guarded)  # SQLite rebuilds the table to drop a column: put the guard back after
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_column("password_signing_until")
    create_guards(guarded)
