"""Progressive web app: manifest, service worker (root scope) and the offline page."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, jsonify, render_template, url_for
from werkzeug.wrappers import Response

bp = Blueprint("pwa", __name__)

# What the service worker keeps for the shell; pages with records are never cached.
SHELL_ASSETS = (
    "css/app.css",
    "js/app.js",
    "js/scan.js",
    "js/fields.js",
    "js/passkeys.js",
    "lib/htmx.min.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
)


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """The web app manifest (installable on handhelds and tablets)."""
    asset: Callable[[str], str] = current_app.jinja_env.globals["asset"]  # type: ignore[assignment]
    response = jsonify(
        name="Batchbook",
        short_name="Batchbook",
        description="Electronic batch manufacturing record",
        start_url=url_for("home.index"),
        scope="/",
        display="standalone",
        orientation="any",
        background_color="#ffffff",
        theme_color="#0b3d2e",
        icons=[
            {"src": asset("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": asset("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": asset("icons/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    )
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, versioned by the hash of every static asset it caches."""
    asset: Callable[[str], str] = current_app.jinja_env.globals["asset"]  # type: ignore[assignment]
    body = render_template(
        "core/pwa/sw.js",
        release=current_app.extensions["assets_release"],
        precache=[asset(name) for name in SHELL_ASSETS] + [url_for("pwa.offline")],
        offline_url=url_for("pwa.offline"),
    )
    response = Response(body, mimetype="text/javascript")
    # Browsers must always fetch a fresh worker so a new release takes over promptly.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/offline")
def offline() -> str:
    """Shown by the service worker when a page cannot be reached."""
    return render_template("core/pwa/offline.html")
