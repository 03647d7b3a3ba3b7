"""Batchbook: an electronic batch manufacturing record. `create_app` builds the Flask app."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.config import Settings
from app.services.core.clock import Clock, system_clock


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, **flask_config: Any
) -> Flask:
    """Build the app from `settings` (default: the environment) and `clock` (default: the real
    clock of the plant's zone; tests pass a stopped one)."""
    from app import assets, cli, compression, formatting, web
    from app.db import Database
    from app.routes import register_blueprints

    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder=None)  # served by app.assets, versioned
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (idle-limited) session
        WTF_CSRF_SSL_STRICT=True,
        MAX_CONTENT_LENGTH=6 * 1024 * 1024,  # a scanned certificate of analysis (5 MB)
    )
    app.config.update(flask_config)
    app.extensions["settings"] = settings
    app.extensions["db"] = Database(settings.database_url)
    app.extensions["clock"] = clock or system_clock(settings.plant_tz)

    compression.init_app(app)  # first, so its after_request runs last, on the finished response
    app.url_map.converters["int"] = web.RecordId  # before any route is registered
    web.init_app(app)
    assets.init_app(app)
    formatting.init_app(app)
    register_blueprints(app)
    web.commit_before_answering(app)
    cli.init_app(app)
    return app
