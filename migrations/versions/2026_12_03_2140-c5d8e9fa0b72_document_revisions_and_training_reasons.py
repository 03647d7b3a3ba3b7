"""Controlled documents get revisions with a lifecycle; training records keep a reason.

Each document's text moves to its first revision, which keeps the document's id (so the
signatures already made on it, which name that id, still verify) and its revision label, and is
effective: it was in force before revision control, so it has no approval signature and no
effective date (nobody is asked to retrain on it). The text of a revision in review, effective
or superseded is refused any change by the database itself, and no revision or document is ever
deleted. A training record made while an earlier one was still valid carries its reason.

Revision ID: c5d8e9fa0b72
Revises: b3575443444f
Create Date: 2026-12-03 21:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.migrate import create_guards, drop_guards

revision: str = "c5d8e9fa0b72"
down_revision: str | Sequence[str] | None = "b3575443444f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GUARDED = {"document": "DELETE", "document_revision": "DELETE"}
MIGRATED_NOTE = "In force before revision control; brought in unchanged by the migration."
FROZEN_TEXT = ("document_id", "revision", "body", "change_note", "created_by_id", "created_at")
# What an effective revision may still do: become superseded, with its time. Nothing else.
_EFFECTIVE_COLUMNS = (*FROZEN_TEXT, "submitted_at", "effective_at", "effective_on")


def upgrade() -> None:
    op.create_table(
        "document_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("revision", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("change_note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("submitted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("effective_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("superseded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_document_revision_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_document_revision_document_id_document")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_revision")),
        sa.UniqueConstraint(
            "document_id", "revision", name=op.f("uq_document_revision_document_id")
        ),
    )
    with op.batch_alter_table("document_revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_revision_document_id"), ["document_id"], unique=False
        )
    # Today's documents become their revision N, effective, under the document's own id.
    op.get_bind().execute(
        sa.text(
            "INSERT INTO document_revision (id, document_id, revision, status, body, change_note,"
            " created_at) SELECT id, id, revision, 'effective', body, :note, CURRENT_TIMESTAMP"
            " FROM document"
        ),
        {"note": MIGRATED_NOTE},
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('document_revision', 'id'),"
            " coalesce((SELECT max(id) FROM document_revision), 0) + 1, false)"
        )
    # A plain DROP COLUMN (SQLite 3.35+): rebuilding `document` in batch mode would drop a
    # table that the new revisions already reference.
    op.execute("ALTER TABLE document DROP COLUMN body")
    op.execute("ALTER TABLE document DROP COLUMN revision")
    # A plain ADD COLUMN: the table is not rebuilt, so its append-only guard stays in place.
    op.add_column("training_record", sa.Column("reason", sa.Text(), nullable=True))
    create_guards(_GUARDED)
    _create_freeze()


def downgrade() -> None:
    _drop_freeze()
    drop_guards(_GUARDED)
    training_guard = {"training_record": "UPDATE OR DELETE"}
    drop_guards(training_guard)  # SQLite rebuilds the table to drop a column: put it back after
    with op.batch_alter_table("training_record", schema=None) as batch_op:
        batch_op.drop_column("reason")
    create_guards(training_guard)
    op.add_column(
        "document",
        sa.Column(
            "revision",
            sqlmodel.sql.sqltypes.AutoString(length=20),
            nullable=False,
            server_default="",
        ),
    )
    op.add_column("document", sa.Column("body", sa.Text(), nullable=False, server_default=""))
    # Back to one text per document: the one in force, else the newest.
    op.execute(
        "UPDATE document SET revision = r.revision, body = r.body FROM ("
        " SELECT document_id, revision, body FROM document_revision v WHERE v.id = ("
        "  SELECT w.id FROM document_revision w WHERE w.document_id = v.document_id"
        "  ORDER BY CASE w.status WHEN 'effective' THEN 0 ELSE 1 END, w.id DESC LIMIT 1)"
        ") AS r WHERE r.document_id = document.id"
    )
    with op.batch_alter_table("document_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_revision_document_id"))
    op.drop_table("document_revision")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.alter_column("revision", server_default=None)
        batch_op.alter_column("body", server_default=None)


def _create_freeze() -> None:
    frozen_text = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FROZEN_TEXT)
    kept = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _EFFECTIVE_COLUMNS)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION batchbook_freeze_document_revision() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              IF (OLD.status <> 'draft' AND ({frozen_text}))
                 OR OLD.status = 'superseded'
                 OR (OLD.status = 'effective' AND NOT (NEW.status = 'superseded' AND {kept}))
              THEN
                RAISE EXCEPTION 'document revision % is % and its text frozen: % refused',
                  OLD.id, OLD.status, TG_OP USING ERRCODE = 'insufficient_privilege';
              END IF;
              RETURN NEW;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER document_revision_frozen BEFORE UPDATE ON document_revision "
            "FOR EACH ROW EXECUTE FUNCTION batchbook_freeze_document_revision()"
        )
        return
    frozen_text = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN_TEXT)
    kept = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _EFFECTIVE_COLUMNS)
    op.execute(
        "CREATE TRIGGER document_revision_frozen BEFORE UPDATE ON document_revision "
        f"WHEN (OLD.status <> 'draft' AND ({frozen_text})) OR OLD.status = 'superseded' "
        f"OR (OLD.status = 'effective' AND NOT (NEW.status = 'superseded' AND {kept})) "
        "BEGIN SELECT RAISE(ABORT, 'document revision is frozen (in review, effective or "
        "superseded): UPDATE refused'); END"
    )


def _drop_freeze() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS document_revision_frozen ON document_revision")
        op.execute("DROP FUNCTION IF EXISTS batchbook_freeze_document_revision()")
        return
    op.execute("DROP TRIGGER IF EXISTS document_revision_frozen")
