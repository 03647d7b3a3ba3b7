"""Compressed responses: brotli or gzip, whichever the browser asks for in Accept-Encoding.

Pages, htmx partials and exports are compressed as they go out (`init_app`), at a fast level.
The hashed static assets are compressed once, at the best level, when the app starts
(`precompress`), and app.assets serves those bytes as they are.
"""

from __future__ import annotations

import gzip
import hashlib

import brotli
from flask import Flask, Request, request
from werkzeug.wrappers import Response

# Best first: the order in which we prefer an encoding when the browser rates them equally.
CODINGS = ("br", "gzip")
# Below this a body fits in one packet anyway; compressing it saves nothing worth the time.
MIN_SIZE = 500
COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/manifest+json",
        "image/svg+xml",
        "text/csv",
        "text/plain",
    }
)
# File names app.assets may pre-compress (images and fonts are compressed already).
COMPRESSIBLE_SUFFIXES = frozenset({".css", ".js", ".json", ".svg", ".webmanifest", ".txt"})


def compress(data: bytes, coding: str, *, best: bool = False) -> bytes:
    """`data` encoded as `coding`; `best` for bytes compressed once and served many times."""
    if coding == "br":
        return bytes(brotli.compress(data, quality=11 if best else 5))
    if coding == "gzip":
        return gzip.compress(data, compresslevel=9 if best else 6, mtime=0)
    raise ValueError(f"unknown content coding {coding!r}")


def negotiate(req: Request, offered: tuple[str, ...] = CODINGS) -> str | None:
    """The coding to answer `req` with among `offered`, or None for the plain body."""
    accepted = req.accept_encodings
    best, best_q = None, 0.0
    for coding in offered:
        q = accepted.quality(coding)
        if q > best_q:
            best, best_q = coding, q
    return best


_precompressed: dict[bytes, dict[str, bytes]] = {}


def precompress(data: bytes) -> dict[str, bytes]:
    """Each coding of `data` worth serving (smaller than the plain bytes), made once per process.

    Kept by content, so the apps a test run creates share the work and a changed file is
    compressed anew.
    """
    if len(data) < MIN_SIZE:
        return {}
    key = hashlib.sha256(data).digest()
    if key not in _precompressed:
        variants = {coding: compress(data, coding, best=True) for coding in CODINGS}
        _precompressed[key] = {c: v for c, v in variants.items() if len(v) < len(data)}
    return _precompressed[key]


def init_app(app: Flask) -> None:
    """Compress what goes out. Register before other after_request hooks so it runs last."""
    app.after_request(compress_response)


def compress_response(response: Response) -> Response:
    """The response body encoded for this browser, when it is worth it and safe to do."""
    if response.mimetype not in COMPRESSIBLE:
        return response
    if "Content-Encoding" in response.headers or response.direct_passthrough:
        return response  # already encoded (a pre-compressed asset), or a file sent as it is
    if response.is_streamed:
        return response  # would have to hold the whole stream back
    # From here on the body depends on Accept-Encoding, even when it goes out plain.
    response.vary.add("Accept-Encoding")
    if response.status_code < 200 or response.status_code in (204, 206, 304):
        return response
    if "Content-Range" in response.headers:
        return response
    coding = negotiate(request)
    if coding is None:
        return response
    data = response.get_data()
    if len(data) < MIN_SIZE:
        return response
    encoded = compress(data, coding)
    if len(encoded) >= len(data):
        return response
    response.set_data(encoded)  # also sets Content-Length
    response.headers["Content-Encoding"] = coding
    etag, weak = response.get_etag()
    if etag:  # another representation: another entity tag
        response.set_etag(f"{etag}-{coding}", weak=bool(weak))
    return response
