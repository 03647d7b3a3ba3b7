"""Accounts: personal, never deleted, usernames never reused, admin-only, every change audited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from app.models import AuditEvent, Role, User
from app.services.accounts import users
from app.services.core.errors import PermissionDenied, Rejected
from app.services.demo import DEMO_PEOPLE, seed_demo
from tests.clock import CLOCK
from tests.conftest import SYSTEM, audit_actions, count


def _new(username: str = "newbie", **kw: object) -> users.NewUser:
    values = {"full_name": "New Person", "roles": ("operator",), "password": "long-enough-password"}
    values.update(kw)
    return users.NewUser(username, **values)  # type: ignore[arg-type]


def test_admin_creates_a_user_with_roles(session: Session, make_user: Callable[..., User]) -> None:
    admin = make_user("admin")
    user = users.create_user(
        session, actor=admin, new=_new("Olivia.O", roles=("qa", "operator")), clock=CLOCK
    )
    assert user.username == "olivia.o"
    assert user.role_set == {Role.QA, Role.OPERATOR}
    assert audit_actions(session, entity_id=str(user.id)) == ["user.created"]


def test_every_problem_is_reported_at_once(
    session: Session, make_user: Callable[..., User]
) -> None:
    admin = make_user("admin")
    with pytest.raises(Rejected) as caught:
        users.create_user(
            session,
            actor=admin,
            new=_new("x", full_name=" ", roles=("wizard",), password="short"),
            clock=CLOCK,
        )
    assert {v.field for v in caught.value.violations} == {
        "username",
        "full_name",
        "roles",
        "password",
    }
    assert "wizard" in caught.value.for_field("roles")[0]


def test_operator_may_not_create_users(session: Session, make_user: Callable[..., User]) -> None:
    operator = make_user("operator")
    with pytest.raises(PermissionDenied, match="Only Admin can create users"):
        users.create_user(session, actor=operator, new=_new(), clock=CLOCK)
    assert count(session, User) == 1


def test_usernames_are_never_reused_even_after_deactivation(
    session: Session, make_user: Callable[..., User]
) -> None:
    admin = make_user("admin")
    old = users.create_user(session, actor=admin, new=_new("temp"), clock=CLOCK)
    users.deactivate_user(
        session, actor=admin, user_id=old.id, reason="contract ended", clock=CLOCK
    )
    with pytest.raises(Rejected, match="never reused"):
        users.create_user(session, actor=admin, new=_new("TEMP"), clock=CLOCK)


def test_deactivation_keeps_the_row_and_needs_a_reason(
    session: Session, make_user: Callable[..., User]
) -> None:
    admin = make_user("admin")
    user = make_user("operator")
    with pytest.raises(Rejected, match="reason"):
        users.deactivate_user(session, actor=admin, user_id=user.id, reason="  ", clock=CLOCK)
    users.deactivate_user(
        session, actor=admin, user_id=user.id, reason="left the company", clock=CLOCK
    )
    assert session.get(User, user.id) is not None
    assert not user.active
    with pytest.raises(Rejected, match="already deactivated"):
        users.deactivate_user(session, actor=admin, user_id=user.id, reason="again", clock=CLOCK)
    users.reactivate_user(session, actor=admin, user_id=user.id, reason="came back", clock=CLOCK)
    assert user.active


def test_admin_cannot_lock_themselves_out(session: Session, make_user: Callable[..., User]) -> None:
    admin = make_user("admin")
    with pytest.raises(Rejected, match="own admin role"):
        users.set_roles(
            session, actor=admin, user_id=admin.id, roles=["qa"], reason="x", clock=CLOCK
        )
    with pytest.raises(Rejected, match="own account"):
        users.deactivate_user(session, actor=admin, user_id=admin.id, reason="x", clock=CLOCK)


def test_role_change_is_audited_with_before_and_after(
    session: Session, make_user: Callable[..., User]
) -> None:
    admin = make_user("admin")
    user = make_user("operator")
    users.set_roles(
        session, actor=admin, user_id=user.id, roles=["supervisor"], reason="promoted", clock=CLOCK
    )
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.roles_changed")).one()
    assert '"roles":"operator"' in (event.before or "")
    assert '"roles":"supervisor"' in (event.after or "")
    assert event.reason == "promoted"


def test_demo_seed_is_idempotent(session: Session) -> None:
    created = seed_demo(session, actor=SYSTEM, clock=CLOCK)
    assert sum(c.startswith("user ") for c in created) == len(DEMO_PEOPLE)
    assert sum(c.startswith("identity check ") for c in created) == len(DEMO_PEOPLE)
    assert sum(c.startswith("document ") for c in created) == 2
    users_before, audit_before = count(session, User), count(session, AuditEvent)
    assert seed_demo(session, actor=SYSTEM, clock=CLOCK) == []
    assert (count(session, User), count(session, AuditEvent)) == (users_before, audit_before)
    ada = users.list_users(session, viewer=SYSTEM)
    assert {u.username for u in ada} == {p[0] for p in DEMO_PEOPLE}
