"""The `batchbook` console script as an installer or admin runs it, on SQLite and PostgreSQL:
migrations from empty, idempotent demo seed, user creation with clear refusals, audit verify."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from app.services.demo import DEMO_PASSWORD, DEMO_PEOPLE

BATCHBOOK = str(Path(sys.executable).parent / "batchbook")


@pytest.fixture
def database(backend: str, fresh_database: Callable[[str], str]) -> str:
    """An empty database of this backend (nothing migrated yet)."""
    return fresh_database(backend)


@pytest.fixture
def cli(database: str, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "DATABASE_URL": database,
            "BATCHBOOK_INSTANCE": str(tmp_path / "instance"),
            "BATCHBOOK_ENV": "development",
            "BATCHBOOK_AUDIT_CHECKPOINTS": str(tmp_path / "audit-checkpoints"),
        }
        env.pop("SECRET_KEY", None)
        return subprocess.run(
            [BATCHBOOK, *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


@pytest.fixture
def engine(database: str) -> Iterator[object]:
    eng = create_engine(database)
    yield eng
    eng.dispose()


def scalar(engine: object, sql: str) -> object:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return conn.execute(text(sql)).scalar_one()


def test_db_upgrade_builds_the_schema_from_empty_and_is_repeatable(
    cli: Callable[..., subprocess.CompletedProcess[str]], engine: object, tmp_path: Path
) -> None:
    first = cli("db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert "Database at head." in first.stdout
    tables = set(inspect(engine).get_table_names())  # type: ignore[arg-type]
    assert {"user_account", "audit_event", "signature", "alembic_version"} <= tables

    again = cli("db", "upgrade")
    assert again.returncode == 0, again.stderr
    # Development without SECRET_KEY: one key is generated and kept for later runs.
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.exists()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_seed_demo_twice_changes_nothing_the_second_time(
    cli: Callable[..., subprocess.CompletedProcess[str]], engine: object
) -> None:
    assert cli("db", "upgrade").returncode == 0
    first = cli("seed-demo")
    assert first.returncode == 0, first.stderr
    assert "created" in first.stdout
    users = scalar(engine, "SELECT count(*) FROM user_account")
    events = scalar(engine, "SELECT count(*) FROM audit_event")
    assert users == len(DEMO_PEOPLE)

    second = cli("seed-demo")

    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
    assert scalar(engine, "SELECT count(*) FROM user_account") == users
    assert scalar(engine, "SELECT count(*) FROM audit_event") == events


def test_user_create_then_refuses_reuse_and_unknown_roles_clearly(
    cli: Callable[..., subprocess.CompletedProcess[str]], engine: object
) -> None:
    assert cli("db", "upgrade").returncode == 0
    made = cli(
        "user", "create", "--username", "ada", "--full-name", "Ada Ferreira",
        "--role", "admin", "--role", "qa", "--password", "a-long-first-password",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "Created ada (Ada Ferreira)" in made.stdout

    reused = cli(
        "user", "create", "--username", "ADA", "--full-name", "Another Ada",
        "--role", "operator", "--password", "a-long-first-password",
    )  # fmt: skip
    bad_role = cli(
        "user", "create", "--username", "bob", "--full-name", "Bob",
        "--role", "wizard", "--password", "a-long-first-password",
    )  # fmt: skip

    assert reused.returncode == 1
    assert "'ada' has been used before" in reused.stderr
    assert bad_role.returncode == 1
    assert "wizard" in bad_role.stderr
    for answer in (reused, bad_role):
        assert "Traceback" not in answer.stderr
    assert scalar(engine, "SELECT count(*) FROM user_account") == 1
    assert scalar(engine, "SELECT password_hash FROM user_account").startswith("$argon2id$")  # type: ignore[union-attr]


def test_user_create_prompts_for_the_password_without_echoing_it(
    cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    assert cli("db", "upgrade").returncode == 0
    secret = "typed-at-the-prompt-1"
    made = cli(
        "user", "create", "--username", "walt", "--full-name", "Walter Brandt",
        "--role", "warehouse", stdin=f"{secret}\n{secret}\n",
    )  # fmt: skip

    assert made.returncode == 0, made.stderr
    assert secret not in made.stdout + made.stderr


def test_audit_verify_passes_then_names_the_row_altered_behind_the_apps_back(
    cli: Callable[..., subprocess.CompletedProcess[str]], engine: object, backend: str
) -> None:
    assert cli("db", "upgrade").returncode == 0
    assert cli("seed-demo").returncode == 0

    intact = cli("audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "Audit trail intact" in intact.stdout

    victim = scalar(engine, "SELECT min(id) FROM audit_event WHERE action = 'user.created'")
    with engine.begin() as conn:  # type: ignore[attr-defined]
        if backend == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_guard"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
        conn.execute(
            text("UPDATE audit_event SET actor_username = 'nobody' WHERE id = :id"), {"id": victim}
        )

    broken = cli("audit", "verify")

    assert broken.returncode == 1
    assert f"BROKEN at event #{victim}" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_audit_checkpoint_then_verify_names_events_removed_from_the_end(
    cli: Callable[..., subprocess.CompletedProcess[str]],
    engine: object,
    backend: str,
    tmp_path: Path,
) -> None:
    """The superuser's clean cut (the last events deleted, the chain still valid) is caught by
    the signed checkpoint kept outside the database (BATCHBOOK_AUDIT_CHECKPOINTS)."""
    assert cli("db", "upgrade").returncode == 0
    assert cli("seed-demo").returncode == 0
    made = cli("audit", "checkpoint")
    assert made.returncode == 0, made.stderr
    assert "Checkpoint written to" in made.stdout
    assert "intact" in cli("audit", "verify").stdout

    last = scalar(engine, "SELECT max(id) FROM audit_event")
    with engine.begin() as conn:  # type: ignore[attr-defined]
        if backend == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_guard"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))
        conn.execute(text("DELETE FROM audit_event WHERE id > :cut"), {"cut": int(last) - 10})  # type: ignore[call-overload]

    broken = cli("audit", "verify")
    assert broken.returncode == 1
    assert "events were removed" in broken.stderr and f"#{last}" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_audit_verify_names_a_lot_whose_status_was_set_by_hand(
    cli: Callable[..., subprocess.CompletedProcess[str]], engine: object
) -> None:
    """`UPDATE lot SET status = ...` (which the app role may run) breaks no hash and no
    signature, but the state no longer agrees with its trail."""
    assert cli("db", "upgrade").returncode == 0
    assert cli("seed-demo").returncode == 0
    code = scalar(engine, "SELECT min(lot_code) FROM lot")
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(
            text(
                "UPDATE lot SET status = CASE WHEN status = 'released' THEN 'rejected'"
                " ELSE 'released' END WHERE lot_code = :c"
            ),
            {"c": code},
        )

    broken = cli("audit", "verify")
    assert broken.returncode == 1
    assert f"State DISAGREES with its evidence: lot {code}" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_banner_prints_the_address_and_the_demo_sign_ins(
    cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    shown = cli("banner", "--port", "8123")

    assert shown.returncode == 0, shown.stderr
    assert "http://localhost:8123/" in shown.stdout
    assert DEMO_PASSWORD in shown.stdout
    for username, name, _roles in DEMO_PEOPLE:
        assert username in shown.stdout
        assert name in shown.stdout


def test_production_refuses_to_start_without_a_secret_key(
    cli: Callable[..., subprocess.CompletedProcess[str]], database: str, tmp_path: Path
) -> None:
    env = {**os.environ, "DATABASE_URL": database, "BATCHBOOK_ENV": "production"}
    env.pop("SECRET_KEY", None)
    env["BATCHBOOK_INSTANCE"] = str(tmp_path / "prod")
    answer = subprocess.run(
        [BATCHBOOK, "db", "upgrade"], env=env, capture_output=True, text=True, check=False
    )

    assert answer.returncode != 0
    assert "SECRET_KEY must be set in production" in answer.stderr
    assert not (tmp_path / "prod" / "secret_key").exists()
