"""Test databases: migrated SQLite files and PostgreSQL databases, created fresh and thrown away."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/batchbook_test"


def postgres_base_url() -> str | None:
    """TEST_DATABASE_URL, else a local server if one answers; None (or a failure) when absent."""
    url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG_URL
    try:
        _admin(url).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL is not reachable at {url}: {exc}")
        return None
    return url


def _admin(url: str) -> psycopg.Connection:
    u = make_url(url)
    return psycopg.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        dbname="postgres",
        autocommit=True,
        connect_timeout=3,
    )


def create_pg_database(base_url: str, suffix: str | None = None) -> str:
    """A new, empty database next to `base_url`'s; returns its URL."""
    base = make_url(base_url)
    name = f"{base.database}_{suffix or uuid.uuid4().hex[:10]}"
    if "test" not in name:
        raise RuntimeError(f"refusing to create non-test database {name!r}")
    with _admin(base_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    if not name or "test" not in name:
        raise RuntimeError(f"refusing to drop non-test database {name!r}")
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The role every PostgreSQL test runs as: what `batchbook db grant-app-role` gives, nothing more.
APP_ROLE = "batchbook_test_app"


def ensure_app_role(url: str) -> None:
    """Create the (cluster-wide, login-less) app role once and grant it what the app needs in
    `url`'s database: run after migrating, as production re-runs grant-app-role after upgrade."""
    from sqlalchemy import create_engine

    from app import migrate

    with _admin(url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
        if not exists:
            # Another test run may make it meanwhile.
            with contextlib.suppress(psycopg.errors.DuplicateObject):
                conn.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            migrate.grant_app_role(connection, APP_ROLE)
    finally:
        engine.dispose()


def as_app_role(url: str) -> str:
    """`url`, with every connection switched to the app role when it opens (libpq `options`).
    A test that must act as the superuser behind the app's back says so: `SET ROLE NONE`."""
    return (
        make_url(url)
        .update_query_dict({"options": f"-c role={APP_ROLE}"})
        .render_as_string(hide_password=False)
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"
