"""The one place that speaks htmx's request/response headers (wraps flask-htmx)."""

from __future__ import annotations

from flask import Flask, Response, redirect
from flask_htmx import HTMX

_htmx = HTMX()


def init_app(app: Flask) -> None:
    _htmx.init_app(app)


def is_htmx() -> bool:
    """True when htmx sent this request (a partial is wanted, not a page)."""
    return bool(_htmx)


def wants_partial() -> bool:
    """True for htmx requests that swap a fragment (boosted navigation wants whole pages)."""
    return bool(_htmx) and not _htmx.boosted


def full_redirect(location: str) -> Response:
    """Send the browser to `location`: a plain redirect, or HX-Redirect for htmx requests."""
    if is_htmx():
        response = Response(status=204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location)  # type: ignore[return-value]
