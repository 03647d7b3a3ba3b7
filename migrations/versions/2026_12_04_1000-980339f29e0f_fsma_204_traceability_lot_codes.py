"""FSMA 204: traceability lot codes beside our lot codes, FTL materials, frozen despatch advices.

Materials get the Food Traceability List flag, its category and the pack; parties the TLC source
references (FEI, web address) and whether a supplier's lot number is its TLC; lots their TLC and
TLC source. Output lots already made keep the meaning they had (TLC = the batch's lot code, our
site the source). Each shipment shipped before this revision gets its despatch advice frozen
from the despatch's own audit event (what was sent then), never rebuilt from today's master data.
The new table is append-only; the other tables are changed by plain ADD COLUMNs only, so their
guards stay in place.

Revision ID: 980339f29e0f
Revises: c5d8e9fa0b72
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.migrate import create_guards, drop_guards

revision: str = "980339f29e0f"
down_revision: str | Sequence[str] | None = "c5d8e9fa0b72"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GUARDED = {"despatch_advice": "UPDATE OR DELETE"}
# Tables that SQLite rebuilds to drop a column on the way down: their guards go back after.
_REBUILT = {"material": "DELETE", "party": "DELETE", "lot": "DELETE"}
_FK = "fk_lot_tlc_source_id_party"


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.add_column(
        "material",
        sa.Column("on_traceability_list", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("material", sa.Column("ftl_category", _text(40), nullable=True))
    op.add_column("material", sa.Column("pack_size", _text(60), nullable=True))
    op.add_column("material", sa.Column("pack_style", _text(60), nullable=True))
    op.add_column("party", sa.Column("fei", _text(10), nullable=True))
    op.add_column("party", sa.Column("url", _text(200), nullable=True))
    op.add_column(
        "party", sa.Column("lot_is_tlc", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("lot", sa.Column("tlc", _text(60), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference in place (no table rebuild, guards kept).
        op.execute(
            f"ALTER TABLE lot ADD COLUMN tlc_source_id INTEGER CONSTRAINT {_FK} "
            "REFERENCES party (id)"
        )
    else:
        op.add_column("lot", sa.Column("tlc_source_id", sa.Integer(), nullable=True))
        op.create_foreign_key(_FK, "lot", "party", ["tlc_source_id"], ["id"])
    op.add_column("lot", sa.Column("tlc_source_reference", _text(200), nullable=True))
    op.create_index(op.f("ix_lot_tlc"), "lot", ["tlc"], unique=False)
    op.create_table(
        "despatch_advice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("sha256", _text(64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipment.id"], name=op.f("fk_despatch_advice_shipment_id_shipment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_despatch_advice")),
        sa.UniqueConstraint("shipment_id", name=op.f("uq_despatch_advice_shipment_id")),
    )
    _output_lots_keep_their_code_as_tlc()
    _freeze_the_advices_already_sent()
    create_guards(_GUARDED)


def _output_lots_keep_their_code_as_tlc() -> None:
    """A lot made here was shipped under its own code with our site as the TLC source: keep it."""
    op.execute(
        "UPDATE lot SET tlc = lot_code, tlc_source_id = "
        "(SELECT min(id) FROM party WHERE kind = 'site') "
        "WHERE id IN (SELECT lot_id FROM inventory_movement WHERE kind = 'production')"
    )


def _freeze_the_advices_already_sent() -> None:
    bind = op.get_bind()
    sent = bind.execute(
        sa.text(
            "SELECT s.id, s.shipped_at, e.after FROM shipment s JOIN audit_event e "
            "ON e.entity_type = 'shipment' AND e.entity_id = CAST(s.id AS VARCHAR(20)) "
            "AND e.action = 'shipment.despatched' "
            "WHERE s.status = 'shipped' ORDER BY s.id, e.id"
        )
    ).all()
    frozen: set[int] = set()
    for shipment_id, shipped_at, after in sent:
        if shipment_id in frozen or after is None:
            continue
        frozen.add(shipment_id)
        bind.execute(
            sa.text(
                "INSERT INTO despatch_advice (shipment_id, format, content, sha256, created_at) "
                "VALUES (:shipment_id, 0, :content, :sha256, :created_at)"
            ),
            {
                "shipment_id": shipment_id,
                "content": after,
                "sha256": hashlib.sha256(after.encode("utf-8")).hexdigest(),
                "created_at": shipped_at,
            },
        )


def downgrade() -> None:
    drop_guards(_GUARDED)
    op.drop_table("despatch_advice")
    drop_guards(_REBUILT)  # SQLite rebuilds these tables to drop columns
    op.drop_index(op.f("ix_lot_tlc"), table_name="lot")
    with op.batch_alter_table("lot") as batch_op:
        if op.get_bind().dialect.name == "postgresql":
            batch_op.drop_constraint(_FK, type_="foreignkey")
        batch_op.drop_column("tlc_source_reference")
        batch_op.drop_column("tlc_source_id")
        batch_op.drop_column("tlc")
    with op.batch_alter_table("party") as batch_op:
        batch_op.drop_column("lot_is_tlc")
        batch_op.drop_column("url")
        batch_op.drop_column("fei")
    with op.batch_alter_table("material") as batch_op:
        batch_op.drop_column("pack_style")
        batch_op.drop_column("pack_size")
        batch_op.drop_column("ftl_category")
        batch_op.drop_column("on_traceability_list")
    create_guards(_REBUILT)
