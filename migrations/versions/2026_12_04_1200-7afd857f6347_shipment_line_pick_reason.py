"""Shipment lines keep the reason a lot that is not a finished good ships to a customer.

A plain ADD COLUMN: shipment_line's guard stays in place. SQLite rebuilds the table to drop the
column on the way down, so its guard goes back after.

Revision ID: 7afd857f6347
Revises: 20645e08eade
Create Date: 2026-12-04 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.migrate import create_guards, drop_guards

revision: str = "7afd857f6347"
down_revision: str | Sequence[str] | None = "20645e08eade"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REBUILT = {"shipment_line": "DELETE"}


def upgrade() -> None:
    op.add_column("shipment_line", sa.Column("pick_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    drop_guards(_REBUILT)
    with op.batch_alter_table("shipment_line") as batch_op:
        batch_op.drop_column("pick_reason")
    create_guards(_REBUILT)
