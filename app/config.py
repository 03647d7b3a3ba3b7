"""Settings read from the environment, with development defaults that work on a fresh machine."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

INSTANCE_DIR = Path(os.environ.get("BATCHBOOK_INSTANCE", Path.cwd() / "instance")).resolve()


class ConfigError(RuntimeError):
    """The environment does not describe a runnable configuration."""


def _secret_key(env: str) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if env == "production":
        raise ConfigError("SECRET_KEY must be set in production (BATCHBOOK_ENV=production).")
    # Development: generate once and keep it, so restarts do not log everybody out.
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}.") from exc


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"PLANT_TZ {name!r} is not a known IANA time zone.") from exc


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment, resolved once at start-up."""

    env: str
    database_url: str
    secret_key: str
    plant_tz: ZoneInfo
    webauthn_rp_id: str
    webauthn_rp_name: str
    webauthn_origins: tuple[str, ...]
    idle_timeout_seconds: int
    login_max_failures: int
    login_lock_seconds: int
    demo: bool
    password_signing: bool = True
    signing_max_failures: int = 5
    signing_lock_seconds: int = 30 * 60
    # Signed audit checkpoints and their key: outside the database, ideally on other storage.
    audit_checkpoint_dir: Path = INSTANCE_DIR / "audit-checkpoints"
    audit_checkpoint_minutes: int = 15
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        """Served over HTTPS only: Secure cookies and HSTS, whatever the proxy says."""
        return self.env == "production"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ.get("BATCHBOOK_ENV", "development")
        port = os.environ.get("PORT", "8000")
        values: dict[str, object] = {
            "env": env,
            "database_url": os.environ.get(
                "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'batchbook.sqlite3'}"
            ),
            "secret_key": None,
            "plant_tz": os.environ.get("PLANT_TZ", "UTC"),
            "webauthn_rp_id": os.environ.get("WEBAUTHN_RP_ID", "localhost"),
            "webauthn_rp_name": os.environ.get("WEBAUTHN_RP_NAME", "Batchbook"),
            "webauthn_origins": tuple(
                o.strip()
                for o in os.environ.get("WEBAUTHN_ORIGIN", f"http://localhost:{port}").split(",")
                if o.strip()
            ),
            "idle_timeout_seconds": _int("IDLE_TIMEOUT_SECONDS", 15 * 60),
            "login_max_failures": _int("LOGIN_MAX_FAILURES", 5),
            "login_lock_seconds": _int("LOGIN_LOCK_SECONDS", 15 * 60),
            "demo": os.environ.get("BATCHBOOK_DEMO", "1" if env != "production" else "0") == "1",
            "password_signing": os.environ.get("ESIGN_PASSWORD_SIGNING", "1") == "1",
            "signing_max_failures": _int("ESIGN_MAX_FAILURES", 5),
            "signing_lock_seconds": _int("ESIGN_LOCK_SECONDS", 30 * 60),
            "audit_checkpoint_dir": Path(
                os.environ.get("BATCHBOOK_AUDIT_CHECKPOINTS", INSTANCE_DIR / "audit-checkpoints")
            ),
            "audit_checkpoint_minutes": _int("AUDIT_CHECKPOINT_MINUTES", 15),
        }
        values.update(overrides)
        if values["secret_key"] is None:
            values["secret_key"] = _secret_key(env)
        if isinstance(values["plant_tz"], str):
            values["plant_tz"] = _zone(values["plant_tz"])
        return cls(**values)  # type: ignore[arg-type]
