"""Number sequences: lot codes and shipment numbers from a counter per prefix.

Revision ID: c8d2e3f4a516
Revises: b7c1d2e3f405
Create Date: 2026-12-03 16:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c8d2e3f4a516"
down_revision: str | Sequence[str] | None = "b7c1d2e3f405"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "number_sequence",
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_number_sequence")),
    )


def downgrade() -> None:
    op.drop_table("number_sequence")
