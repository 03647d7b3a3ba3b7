"""Excess issue approvals: a supervisor's approval, with a reason, to issue more of a material to
a batch than its scaled target and tolerance allow (append-only).

Revision ID: b3575443444f
Revises: aaa35f4e9486
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.migrate import create_guards, drop_guards

revision: str = "b3575443444f"
down_revision: str | Sequence[str] | None = "aaa35f4e9486"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "excess_issue_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.String(length=40), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("approved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_excess_issue_approval_approved_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f("fk_excess_issue_approval_batch_id_batch")
        ),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["material.id"],
            name=op.f("fk_excess_issue_approval_material_id_material"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_excess_issue_approval")),
    )
    with op.batch_alter_table("excess_issue_approval", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_excess_issue_approval_batch_id"), ["batch_id"], unique=False
        )
    create_guards(_GUARDED)


def downgrade() -> None:
    drop_guards(_GUARDED)
    with op.batch_alter_table("excess_issue_approval", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_excess_issue_approval_batch_id"))
    op.drop_table("excess_issue_approval")


_GUARDED = {"excess_issue_approval": "UPDATE OR DELETE"}
