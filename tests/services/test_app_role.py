"""On PostgreSQL the app role lacks the grants to change the audit trail (REGULATORY 11.10(e))."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from app import migrate
from app.models import User


def test_app_role_may_add_but_never_change_or_delete(
    connection: Connection, make_user: Callable[..., User]
) -> None:
    if connection.dialect.name != "postgresql":
        with pytest.raises(ValueError, match="only on PostgreSQL"):
            migrate.grant_app_role(connection, "bmr_app")
        return
    make_user("operator")
    connection.exec_driver_sql("SET ROLE NONE")  # creating roles takes the superuser
    role = f"bmr_app_{uuid.uuid4().hex[:8]}"
    # Inside the test's transaction: the role and its grants vanish with the rollback.
    connection.exec_driver_sql(f"CREATE ROLE {role}")
    migrate.grant_app_role(connection, role)
    migrate.grant_app_role(connection, role)  # idempotent
    connection.exec_driver_sql(f"SET ROLE {role}")
    assert connection.execute(text("SELECT count(*) FROM audit_event")).scalar_one() == 1
    connection.execute(text("UPDATE user_account SET full_name = full_name"))  # ordinary edits ok
    for statement, words in (
        ("UPDATE audit_event SET reason = 'x'", "permission denied"),
        ("DELETE FROM audit_event", "permission denied"),
        ("DELETE FROM user_account", "permission denied"),
        ("TRUNCATE audit_event", "permission denied"),
    ):
        with pytest.raises(DBAPIError, match=words), connection.begin_nested():
            connection.execute(text(statement))
    connection.exec_driver_sql("RESET ROLE")


def test_role_name_must_be_plain(connection: Connection) -> None:
    with pytest.raises(ValueError, match="plain role name"):
        migrate.grant_app_role(connection, "x; DROP TABLE audit_event")


def test_the_postgresql_tests_run_as_the_least_privilege_app_role(
    connection: Connection, app: object
) -> None:
    """Every service and route test meets the grants production has (a missing grant fails
    here, not on a plant's first shift)."""
    from tests.db import APP_ROLE

    if connection.dialect.name != "postgresql":
        return
    assert connection.execute(text("SELECT current_user")).scalar_one() == APP_ROLE
    assert not connection.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    ).scalar_one()
