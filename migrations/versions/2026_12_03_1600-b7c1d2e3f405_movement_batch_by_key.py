"""Genealogy by key: a stock movement names its batch by foreign key, not by typed text.

The batch number each movement carried is looked up and kept as `batch_id`; a movement whose
batch number matches no batch stops the migration (it would be a broken genealogy link).
The ledger stays append-only: its guards are lifted only for this one rewrite and put back.

Revision ID: b7c1d2e3f405
Revises: a290b43d13a1
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.migrate import create_guards, drop_guards

revision: str = "b7c1d2e3f405"
down_revision: str | Sequence[str] | None = "a290b43d13a1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GUARDED = {"inventory_movement": "UPDATE OR DELETE"}


def _orphans() -> list[str]:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT DISTINCT m.batch_no FROM inventory_movement m "
            "LEFT JOIN batch b ON b.batch_no = m.batch_no "
            "WHERE m.batch_no IS NOT NULL AND b.id IS NULL"
        )
    )
    return [row[0] for row in rows]


def upgrade() -> None:
    orphans = _orphans()
    if orphans:
        raise RuntimeError(f"Movements name batches that do not exist: {', '.join(orphans)}")
    drop_guards(_GUARDED)
    with op.batch_alter_table("inventory_movement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE inventory_movement SET batch_id = "
        "(SELECT b.id FROM batch b WHERE b.batch_no = inventory_movement.batch_no) "
        "WHERE batch_no IS NOT NULL"
    )
    with op.batch_alter_table("inventory_movement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inventory_movement_batch_no"))
        batch_op.drop_column("batch_no")
        batch_op.create_index(
            batch_op.f("ix_inventory_movement_batch_id"), ["batch_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_inventory_movement_batch_id_batch"), "batch", ["batch_id"], ["id"]
        )
    create_guards(_GUARDED)


def downgrade() -> None:
    drop_guards(_GUARDED)
    with op.batch_alter_table("inventory_movement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_no", sa.String(length=60), nullable=True))
    op.execute(
        "UPDATE inventory_movement SET batch_no = "
        "(SELECT b.batch_no FROM batch b WHERE b.id = inventory_movement.batch_id) "
        "WHERE batch_id IS NOT NULL"
    )
    with op.batch_alter_table("inventory_movement", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_inventory_movement_batch_id_batch"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_inventory_movement_batch_id"))
        batch_op.drop_column("batch_id")
        batch_op.create_index(
            batch_op.f("ix_inventory_movement_batch_no"), ["batch_no"], unique=False
        )
    create_guards(_GUARDED)
