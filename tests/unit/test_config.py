"""Settings from the environment: development defaults that work on a fresh machine, production
refusing to start without what it needs, clear messages for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import config
from app.config import ConfigError, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in (
        "DATABASE_URL", "SECRET_KEY", "PLANT_TZ", "WEBAUTHN_RP_ID", "WEBAUTHN_ORIGIN", "PORT",
        "IDLE_TIMEOUT_SECONDS", "BATCHBOOK_ENV", "BATCHBOOK_DEMO", "ESIGN_PASSWORD_SIGNING",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "instance")
    return tmp_path / "instance"


def test_development_defaults(clean_env: Path) -> None:
    s = Settings.from_env()

    assert s.database_url == f"sqlite:///{clean_env / 'batchbook.sqlite3'}"
    assert s.plant_tz.key == "UTC"
    assert s.webauthn_rp_id == "localhost"
    assert s.webauthn_origins == ("http://localhost:8000",)
    assert s.idle_timeout_seconds == 15 * 60
    assert s.demo is True
    assert s.password_signing is True


def test_secret_key_is_generated_once_and_kept(clean_env: Path) -> None:
    first = Settings.from_env().secret_key
    second = Settings.from_env().secret_key

    assert first == second
    assert len(first) >= 64
    assert (clean_env / "secret_key").stat().st_mode & 0o077 == 0  # readable by its owner only


def test_production_requires_a_secret_key_and_turns_demo_off(
    monkeypatch: pytest.MonkeyPatch, clean_env: Path
) -> None:
    monkeypatch.setenv("BATCHBOOK_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY must be set in production"):
        Settings.from_env()
    assert not (clean_env / "secret_key").exists()

    monkeypatch.setenv("SECRET_KEY", "from-the-vault")
    s = Settings.from_env()
    assert s.secret_key == "from-the-vault"
    assert s.demo is False


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://app@db/batchbook")
    monkeypatch.setenv("PLANT_TZ", "Europe/Berlin")
    monkeypatch.setenv("WEBAUTHN_RP_ID", "bmr.example.com")
    monkeypatch.setenv("WEBAUTHN_ORIGIN", "https://bmr.example.com, https://qa.bmr.example.com")
    monkeypatch.setenv("IDLE_TIMEOUT_SECONDS", "300")
    monkeypatch.setenv("ESIGN_PASSWORD_SIGNING", "0")

    s = Settings.from_env()

    assert s.database_url == "postgresql+psycopg://app@db/batchbook"
    assert s.plant_tz.key == "Europe/Berlin"
    assert s.webauthn_rp_id == "bmr.example.com"
    assert s.webauthn_origins == ("https://bmr.example.com", "https://qa.bmr.example.com")
    assert s.idle_timeout_seconds == 300
    assert s.password_signing is False


def test_port_moves_the_default_webauthn_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8123")
    assert Settings.from_env().webauthn_origins == ("http://localhost:8123",)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PLANT_TZ", "Mars/Olympus", "not a known IANA time zone"),
        ("IDLE_TIMEOUT_SECONDS", "fifteen", "must be a whole number"),
    ],
)
def test_bad_values_are_named_in_the_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message) as refused:
        Settings.from_env()
    assert value in str(refused.value)
