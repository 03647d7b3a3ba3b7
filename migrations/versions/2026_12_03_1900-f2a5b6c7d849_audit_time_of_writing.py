"""Audit events carry the time of writing: PostgreSQL refuses any other.

The app reads the database clock for each event; this trigger makes the database itself refuse
an event dated otherwise (a backdated or future-dated event), whoever inserts it.

Revision ID: f2a5b6c7d849
Revises: e1f4a5b6c738
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "f2a5b6c7d849"
down_revision: str | Sequence[str] | None = "e1f4a5b6c738"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # embedded: the app's clock is the server's clock
    op.execute(
        """
        CREATE FUNCTION batchbook_audit_time_of_writing() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.occurred_at < clock_timestamp() - interval '5 seconds'
             OR NEW.occurred_at > clock_timestamp() + interval '1 second' THEN
            RAISE EXCEPTION 'audit event dated % is refused: events carry the time of writing (%)',
              NEW.occurred_at, clock_timestamp() USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_event_time_of_writing BEFORE INSERT ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION batchbook_audit_time_of_writing()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_event_time_of_writing ON audit_event")
    op.execute("DROP FUNCTION IF EXISTS batchbook_audit_time_of_writing()")
