"""Root fixtures: settings, migrated databases on SQLite and PostgreSQL, sessions, the app.

Every service and route test runs once per backend. Each test runs inside an outer transaction
that is rolled back at the end; the code under test commits savepoints inside it.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, Engine, event
from sqlmodel import Session, func, select, text

from app import create_app, migrate
from app.config import Settings
from app.db import make_engine
from app.models import AuditEvent, User
from app.services.accounts.users import NewUser, create_user
from app.services.core.actors import SystemActor
from app.services.core.clock import StoppedClock
from tests import db as testdb
from tests.clock import CLOCK, NOW, at

pytest_plugins = ["tests.signing"]

BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "correct-horse-battery"
SYSTEM = SystemActor("cli:test")


def pytest_configure(config: pytest.Config) -> None:
    """TEST_WALL_CLOCK_SHIFT_DAYS=N moves the wall clock N days ahead for the whole run: a test
    that passes only on the day it was written (it read the wall clock somewhere) fails then.
    CI runs the service and route tests a second time with N=400."""
    days = os.environ.get("TEST_WALL_CLOCK_SHIFT_DAYS")
    if days:
        import time_machine

        time_machine.travel(timedelta(days=int(days)), tick=True).start()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": "test-secret-key",
        "plant_tz": "Europe/Berlin",
        "webauthn_rp_id": "localhost",
        "webauthn_origins": ("http://localhost",),
        "idle_timeout_seconds": 15 * 60,
        "demo": True,
        # Never the checkout's instance/ folder: each app of a test signs into its own.
        "audit_checkpoint_dir": Path(tempfile.mkdtemp(prefix="batchbook-audit-")),
    }
    values.update(overrides)
    return Settings.from_env(**values)


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashing() -> Iterator[None]:
    """Cheap argon2id parameters for the whole suite: the demo plant alone hashes and checks
    passwords dozens of times, and what the tests show is who may sign in and sign, not the
    hash's cost. The app's own parameters are argon2-cffi's defaults (the CLI tests, which run
    the real program, store those)."""
    from argon2 import PasswordHasher

    from app.services.accounts import auth

    quick = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "_hasher", quick)
        patch.setattr(auth, "_DUMMY_HASH", quick.hash("batchbook-timing-equaliser"))
        yield


@pytest.fixture(scope="session")
def postgres_url() -> str | None:
    return testdb.postgres_base_url()


@pytest.fixture(scope="session")
def fresh_database(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str | None
) -> Iterator[Callable[[str], str]]:
    """A factory: an empty database of the given backend, dropped at the end of the session."""
    created: list[str] = []
    counter = itertools.count()

    def make(backend: str) -> str:
        if backend == "sqlite":
            return testdb.sqlite_url(tmp_path_factory.mktemp("db") / f"t{next(counter)}.sqlite3")
        if postgres_url is None:
            pytest.skip("PostgreSQL not reachable (set TEST_DATABASE_URL or REQUIRE_POSTGRES=1)")
        url = testdb.create_pg_database(postgres_url)
        created.append(url)
        return url

    yield make
    for url in created:
        testdb.drop_pg_database(url)


@pytest.fixture(scope="session")
def app_database(fresh_database: Callable[[str], str]) -> Callable[[str], str]:
    """A factory: a migrated database of the given backend, its URL as the app connects to it.
    On PostgreSQL that is the least-privilege app role, as in production (a missing grant fails
    the tests instead of a plant's first shift)."""

    def make(backend: str) -> str:
        url = fresh_database(backend)
        migrate.upgrade(url)
        if backend == "sqlite":
            return url
        testdb.ensure_app_role(url)
        return testdb.as_app_role(url)

    return make


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def migrated_engine(backend: str, app_database: Callable[[str], str]) -> Iterator[Engine]:
    """One migrated database per backend for the whole session (tests roll back), connected
    as the app role on PostgreSQL."""
    engine = make_engine(app_database(backend))
    yield engine
    engine.dispose()


@pytest.fixture
def connection(migrated_engine: Engine) -> Iterator[Connection]:
    conn = migrated_engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
        yield s


@pytest.fixture
def settings(migrated_engine: Engine) -> Settings:
    return make_settings(migrated_engine.url.render_as_string(hide_password=False))


@pytest.fixture
def clock() -> StoppedClock:
    """The app's clock in this test, stopped at NOW; a test may move it (`clock.advance`)."""
    return at(NOW)


@pytest.fixture
def app(settings: Settings, connection: Connection, clock: StoppedClock) -> Flask:
    flask_app = create_app(settings, clock=clock, TESTING=True)
    flask_app.extensions["db"].bind_to(connection)
    return flask_app


@pytest.fixture
def make_user(session: Session) -> Callable[..., User]:
    """Create a user through the service (audited), with a known password."""
    counter = itertools.count(1)

    def make(*roles: str, username: str | None = None, full_name: str | None = None) -> User:
        name = username or f"{(roles or ('user',))[0]}{next(counter)}"
        return create_user(
            session,
            actor=SYSTEM,
            new=NewUser(
                name, full_name or name.title() + " Tester", roles or ("operator",), PASSWORD
            ),
            clock=CLOCK,
        )

    return make


@contextmanager
def behind_the_apps_back(connection: Connection | Session) -> Iterator[None]:
    """Act as the database superuser inside the test's transaction (what an attacker with the
    server's keys could do); back to the app role after. SQLite has no roles."""
    dialect = (connection.get_bind() if isinstance(connection, Session) else connection).dialect
    if dialect.name != "postgresql":
        yield
        return
    connection.execute(text("SET ROLE NONE"))
    try:
        yield
    finally:
        connection.execute(text(f"SET ROLE {testdb.APP_ROLE}"))


def drop_guards(session: Session, table: str, *extra_pg_triggers: str) -> None:
    """Become the database's owner for the rest of the test and drop `table`'s append-only
    guard (what an attacker holding the server could do); SQLite has no roles."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET ROLE NONE"))
        for trigger in (f"{table}_guard", *extra_pg_triggers):
            session.execute(text(f"DROP TRIGGER {trigger} ON {table}"))
        return
    for operation in ("update", "delete"):
        session.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{operation}"))


@dataclass
class Counted:
    """The SQL statements seen while counting (each as sent to the driver)."""

    statements: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(connection: Connection) -> Callable[[], AbstractContextManager[Counted]]:
    """Count the SQL statements run on the test's connection: those of direct service calls
    (the `session` fixture) and of requests through the test client (the `app` fixture binds the
    app's database to the same connection), savepoints included.

        with count_statements() as counted:
            client.get("/lots/")
        assert counted.n == ...
    """

    @contextmanager
    def counting() -> Iterator[Counted]:
        counted = Counted()

        def seen(*args: Any) -> None:
            counted.statements.append(args[2])  # (conn, cursor, statement, parameters, ...)

        event.listen(connection, "before_cursor_execute", seen)
        try:
            yield counted
        finally:
            event.remove(connection, "before_cursor_execute", seen)

    return counting


def count(session: Session, model: type[Any]) -> int:
    return session.exec(select(func.count()).select_from(model)).one()  # type: ignore[no-any-return]


def audit_actions(session: Session, **where: Any) -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.id)  # type: ignore[arg-type]
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return list(session.exec(query))


__all__ = [
    "PASSWORD",
    "SYSTEM",
    "Counted",
    "behind_the_apps_back",
    "drop_guards",
    "Path",
    "audit_actions",
    "count",
    "make_settings",
]
