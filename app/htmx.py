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


def in_place(body: str, status: int, target: str) -> Response:
    """Answer with the partial that replaces `target` (outerHTML), whichever element sent the
    request: a refusal shown in the section of the form, not where a page would go. The address
    bar stays (a boosted form would otherwise push the form's URL for a page never shown)."""
    response = Response(body, status=status)
    response.headers["HX-Retarget"] = target
    response.headers["HX-Reswap"] = "outerHTML"
    response.headers["HX-Push-Url"] = "false"
    return response
