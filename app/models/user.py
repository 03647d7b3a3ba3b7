"""People who use the system. Never deleted (deactivated instead); usernames never reused."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field

from app.models.base import SQLModel


class Role(StrEnum):
    OPERATOR = "operator"
    WAREHOUSE = "warehouse"
    QA = "qa"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {"qa": "QA"}.get(self.value, self.value.capitalize())


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    # Stored lower-case; the unique constraint plus "never deleted" means never reused.
    username: str = Field(max_length=64, unique=True)
    full_name: str = Field(max_length=200)
    roles: str = Field(default="", max_length=200)  # comma-separated Role values, sorted
    password_hash: str = Field(max_length=255)
    active: bool = Field(default=True)
    created_at: datetime
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = None
    last_login_at: datetime | None = None
    # E-signing has its own lock: repeated failed signings must not pass silently (§11.300(d)).
    signing_failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    signing_locked_until: datetime | None = None
    # Someone with a passkey signs with it; an admin may allow the user-ID-and-password
    # fallback until a time (a lost phone), recorded with a reason.
    password_signing_until: datetime | None = None

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(r) for r in self.roles.split(",") if r)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.role_set.intersection(roles))

    # flask-login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class WebSession(SQLModel, table=True):
    """A signed-in (or anonymous) browser session, kept on the server so that every app server
    sees the same one and an ended session stays ended: the cookie carries only a random token,
    stored here as its hash. Never deleted; ended with a time and a reason."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    device: str = Field(default="", max_length=200)  # the browser as it names itself
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = Field(default=None, max_length=40)
    data: str = Field(default="{}")  # the session's values (flashes, CSRF token, who)
