"""Signatures keep the relying party they were made under; challenges their browser session.

Revision ID: a3b6c7d8e950
Revises: f2a5b6c7d849
Create Date: 2026-12-03 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "a3b6c7d8e950"
down_revision: str | Sequence[str] | None = "f2a5b6c7d849"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs: the tables are not rebuilt, so their append-only guards stay in place.
    op.add_column(
        "signature", sa.Column("rp_id", sqlmodel.sql.sqltypes.AutoString(length=253), nullable=True)
    )
    op.add_column(
        "signature",
        sa.Column("allowed_origins", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    )
    fk = "fk_webauthn_challenge_web_session_id_web_session"
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference in place (no table rebuild, guards kept).
        op.execute(
            "ALTER TABLE webauthn_challenge ADD COLUMN web_session_id INTEGER "
            f"CONSTRAINT {fk} REFERENCES web_session (id)"
        )
        return
    op.add_column("webauthn_challenge", sa.Column("web_session_id", sa.Integer(), nullable=True))
    op.create_foreign_key(fk, "webauthn_challenge", "web_session", ["web_session_id"], ["id"])


def downgrade() -> None:
    from app.migrate import create_guards, drop_guards

    guarded = {"signature": "UPDATE OR DELETE"}
    drop_guards(guarded)  # SQLite rebuilds a table to drop a column: put the guard back after
    with op.batch_alter_table("webauthn_challenge") as batch_op:
        if op.get_bind().dialect.name == "postgresql":
            batch_op.drop_constraint(
                op.f("fk_webauthn_challenge_web_session_id_web_session"), type_="foreignkey"
            )
        batch_op.drop_column("web_session_id")
    with op.batch_alter_table("signature") as batch_op:
        batch_op.drop_column("allowed_origins")
        batch_op.drop_column("rp_id")
    create_guards(guarded)
