"""Alembic, driven from code: `migrations/` is the only way the schema changes."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option(
        "file_template",
        "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s",
    )
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head", connection: Connection | None = None) -> None:
    command.upgrade(alembic_config(url, connection), revision)


def downgrade(url: str, revision: str) -> None:
    """Step the schema back (for developers and the migration tests; data goes with it)."""
    command.downgrade(alembic_config(url), revision)


def new_revision(url: str, message: str) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=True)


# Tables whose rows the application may add and read but never change (on top of the triggers).
APPEND_ONLY_TABLES = ("audit_event", "despatch_advice")
# The only rows the application ever deletes: the content of a draft master record, edited in
# place until it is approved. The freeze triggers refuse the same DELETE on an effective or
# superseded revision's rows, so the grant reaches drafts only.
DRAFT_CONTENT_TABLES = ("recipe_step", "bom_line", "step_limit")


def grant_app_role(connection: Connection, role: str) -> None:
    """Give a PostgreSQL login role what the app needs and no more: nothing is ever deleted
    (but a draft's own content), and append-only tables cannot be updated either. Idempotent;
    re-run after each upgrade.

    Raises:
        ValueError: not PostgreSQL, or `role` is not a plain identifier.
    """
    if not role.replace("_", "").isalnum() or not role[0].isalpha():
        raise ValueError(f"{role!r} is not a plain role name (letters, digits, underscores).")
    if connection.dialect.name != "postgresql":
        raise ValueError("Database roles exist only on PostgreSQL; SQLite has no grants.")
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        *(f"REVOKE UPDATE ON {table} FROM {role}" for table in APPEND_ONLY_TABLES),
        *(f"GRANT DELETE ON {table} TO {role}" for table in DRAFT_CONTENT_TABLES),
        f"REVOKE ALL ON alembic_version FROM {role}",
        f"GRANT SELECT ON alembic_version TO {role}",
    ]
    for statement in statements:
        connection.exec_driver_sql(statement)


def create_guards(guarded: dict[str, str]) -> None:
    """Inside a migration: refuse the named operations ("DELETE", "UPDATE OR DELETE") on each
    table in the database itself. On PostgreSQL this uses batchbook_refuse_change() from the
    first migration. SQLite: a table rebuilt in batch mode loses its triggers; re-create them."""
    from alembic import op

    postgres = op.get_bind().dialect.name == "postgresql"
    for table, ops in guarded.items():
        if postgres:
            op.execute(
                f"CREATE TRIGGER {table}_guard BEFORE {ops} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION batchbook_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION batchbook_refuse_change()"
            )
            continue
        for operation in ops.split(" OR "):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
            )


def drop_guards(guarded: dict[str, str]) -> None:
    """Inside a migration's downgrade: the reverse of `create_guards`."""
    from alembic import op

    postgres = op.get_bind().dialect.name == "postgresql"
    for table, ops in guarded.items():
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_guard ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            continue
        for operation in ops.split(" OR "):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation.lower()}")
