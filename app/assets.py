"""Static assets under content-hashed URLs, cacheable forever by browsers and the service worker."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

from flask import Blueprint, Flask, abort, redirect, request, send_from_directory, url_for
from werkzeug.wrappers import Response

from app import compression

STATIC_DIR = Path(__file__).parent / "static"
bp = Blueprint("assets", __name__)


def _scan() -> tuple[dict[str, str], dict[str, dict[str, bytes]]]:
    """Each file's content hash, and its compressed codings (made here, once, not per request)."""
    versions = {}
    encodings = {}
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            rel = path.relative_to(STATIC_DIR).as_posix()
            data = path.read_bytes()
            versions[rel] = hashlib.sha256(data).hexdigest()[:12]
            if path.suffix in compression.COMPRESSIBLE_SUFFIXES:
                variants = compression.precompress(data)
                if variants:
                    encodings[rel] = variants
    return versions, encodings


def init_app(app: Flask) -> None:
    versions, encodings = _scan()
    app.extensions["asset_versions"] = versions
    app.extensions["asset_encodings"] = encodings
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
        return redirect(url_for("assets.file", version=current, filename=filename))
    variants = current_app.extensions["asset_encodings"].get(filename, {})
    coding = compression.negotiate(request, tuple(c for c in compression.CODINGS if c in variants))
    if coding is not None:
        response = _encoded(filename, version, coding, variants[coding])
    else:
        response = send_from_directory(STATIC_DIR, filename, max_age=365 * 24 * 3600)
    if variants:
        response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def _encoded(filename: str, version: str, coding: str, body: bytes) -> Response:
    """The pre-compressed bytes of one asset, with their own entity tag (If-None-Match works)."""
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    response = Response(body, mimetype=mimetype)  # sets Content-Length to the encoded size
    response.headers["Content-Encoding"] = coding
    response.set_etag(f"{version}-{coding}")
    return response.make_conditional(request)
