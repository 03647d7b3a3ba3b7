"""Static assets under content-hashed URLs, cacheable forever by browsers and the service worker."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, Flask, abort, redirect, send_from_directory, url_for
from werkzeug.wrappers import Response

STATIC_DIR = Path(__file__).parent / "static"
bp = Blueprint("assets", __name__)


def _scan() -> dict[str, str]:
    versions = {}
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            rel = path.relative_to(STATIC_DIR).as_posix()
            versions[rel] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return versions


def init_app(app: Flask) -> None:
    versions = _scan()
    app.extensions["asset_versions"] = versions
    app.extensions["assets_release"] = hashlib.sha256(
        "".join(f"{k}={v};" for k, v in versions.items()).encode()
    ).hexdigest()[:12]

    def asset(filename: str) -> str:
        version = versions.get(filename)
        if version is None:
            raise KeyError(f"static asset {filename!r} does not exist (did `make install` run?)")
        return url_for("assets.file", version=version, filename=filename)

    app.jinja_env.globals["asset"] = asset
    app.register_blueprint(bp)


@bp.get("/assets/<version>/<path:filename>")
def file(version: str, filename: str) -> Response:
    """One static file; immutable when the version in the URL is the file's current hash."""
    from flask import current_app

    current = current_app.extensions["asset_versions"].get(filename)
    if current is None:
        abort(404)
    if current != version:
        return redirect(url_for("assets.file", version=current, filename=filename))  # type: ignore[return-value]
    response = send_from_directory(STATIC_DIR, filename, max_age=365 * 24 * 3600)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
