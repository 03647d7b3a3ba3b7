"""Migrations are the only way the schema changes: they agree with the models, build from empty,
go back down and up again, and leave the database's own guards in place on both backends."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError

from app import migrate
from app.db import make_engine
from app.models import metadata


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def test_models_and_migrations_agree(migrated_engine: Engine) -> None:
    """What `batchbook db revision` would autogenerate after `upgrade head`: nothing."""
    assert _differences(migrated_engine) == []


def test_one_head_and_a_linear_history() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        assert not revision.is_merge_point


def test_downgrade_to_empty_and_upgrade_again_keeps_the_guards(
    backend: str, fresh_database: Callable[[str], str]
) -> None:
    url = fresh_database(backend)
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 0

        migrate.upgrade(url)

        assert _differences(engine) == []
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO audit_event (occurred_at, actor_username, action, entity_type,"
                    " entity_id, prev_hash, row_hash) VALUES (CURRENT_TIMESTAMP, 'x', 'a', 'e',"
                    " '1', '', 'h')"
                )
            )
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text("UPDATE audit_event SET action = 'b'"))
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_event"))
    finally:
        engine.dispose()
