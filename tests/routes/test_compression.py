"""Compressed responses: pages, htmx partials and the hashed assets, only when the browser asks."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable

import brotli
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse
from werkzeug.wrappers import Response

from app import compression, create_app
from app.config import Settings
from tests.routes.conftest import Browser

DECODE: dict[str, Callable[[bytes], bytes]] = {"gzip": gzip.decompress, "br": brotli.decompress}
ASSETS = ["css/app.css", "lib/htmx.min.js", "js/app.js", "js/passkeys.js"]
# Per-render values (CSRF tokens, idempotency keys) differ between two loads of one page.
VOLATILE = re.compile(r'(name="(?:csrf_token|key)" value=|"X-CSRFToken": )"[^"]*"')


def _asset_url(client: FlaskClient, filename: str) -> str:
    page = client.get("/login").get_data(as_text=True)
    match = re.search(rf'"(/assets/[0-9a-f]{{12}}/{re.escape(filename)})"', page)
    assert match, f"{filename} is not linked from the login page"
    return match.group(1)


def _decoded(response: TestResponse, coding: str) -> bytes:
    assert response.headers["Content-Encoding"] == coding
    assert "Accept-Encoding" in response.vary
    body = response.get_data()
    assert int(response.headers["Content-Length"]) == len(body)
    return DECODE[coding](body)


def _stable(body: bytes) -> str:
    return VOLATILE.sub(r'\1"…"', body.decode())


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_a_page_goes_out_compressed_when_asked(client: FlaskClient, coding: str) -> None:
    plain = client.get("/offline")
    packed = client.get("/offline", headers={"Accept-Encoding": coding})
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.vary  # caches must keep the two apart
    assert _decoded(packed, coding) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data())
    assert packed.headers["Cache-Control"] == plain.headers["Cache-Control"]
    assert packed.headers["Content-Security-Policy"]  # the security headers still come along


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_a_signed_in_page_and_its_htmx_partial_go_out_compressed(
    signed_in: Callable[..., Browser], coding: str
) -> None:
    client = signed_in("warehouse").client
    for headers in ({}, {"HX-Request": "true"}):
        plain = client.get("/lots/receive", headers=headers)
        packed = client.get("/lots/receive", headers={**headers, "Accept-Encoding": coding})
        assert plain.status_code == packed.status_code == 200
        assert "Content-Encoding" not in plain.headers
        assert _stable(_decoded(packed, coding)) == _stable(plain.get_data())
    assert b"<html" not in plain.get_data()  # the last pair was the partial


def test_the_browser_preference_decides_the_coding(client: FlaskClient) -> None:
    def coding_for(accept: str) -> str | None:
        return client.get("/offline", headers={"Accept-Encoding": accept}).headers.get(
            "Content-Encoding"
        )

    assert coding_for("gzip, deflate, br, zstd") == "br"
    assert coding_for("gzip, br;q=0.5") == "gzip"
    assert coding_for("*") == "br"
    assert coding_for("identity") is None
    assert coding_for("gzip;q=0, br;q=0") is None
    assert coding_for("deflate") is None


def test_tiny_bodies_go_out_plain(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert len(response.get_data()) < compression.MIN_SIZE
    assert "Content-Encoding" not in response.headers
    assert response.json["status"] == "ok"


def test_encoded_and_streamed_responses_are_left_alone(app: Flask) -> None:
    html = b"<p>" + b"already encoded " * 100 + b"</p>"

    def encoded() -> Response:
        response = Response(gzip.compress(html), mimetype="text/html")
        response.headers["Content-Encoding"] = "gzip"
        return response

    def streamed() -> Response:
        return Response(iter([html, html]), mimetype="text/html")

    app.add_url_rule("/_test/encoded", view_func=encoded)
    app.add_url_rule("/_test/streamed", view_func=streamed)
    client = app.test_client()
    response = client.get("/_test/encoded", headers={"Accept-Encoding": "br, gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.get_data()) == html  # once, not twice
    response = client.get("/_test/streamed", headers={"Accept-Encoding": "br, gzip"})
    assert "Content-Encoding" not in response.headers
    assert response.get_data() == html + html


@pytest.mark.parametrize("filename", ASSETS)
@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_assets_are_served_precompressed(client: FlaskClient, filename: str, coding: str) -> None:
    url = _asset_url(client, filename)
    with client.get(url) as plain:
        plain_body = plain.get_data()
        assert "Content-Encoding" not in plain.headers
        assert "Accept-Encoding" in plain.vary
        plain_type, plain_etag = plain.content_type, plain.headers["ETag"]
    packed = client.get(url, headers={"Accept-Encoding": coding})
    assert packed.status_code == 200
    assert _decoded(packed, coding) == plain_body
    assert len(packed.get_data()) < len(plain_body)
    assert packed.content_type == plain_type
    assert packed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert packed.headers["ETag"] not in (plain_etag, "")  # another representation


def test_precompressed_assets_answer_conditional_requests(client: FlaskClient) -> None:
    url = _asset_url(client, "lib/htmx.min.js")
    etags = set()
    for coding in ("gzip", "br"):
        first = client.get(url, headers={"Accept-Encoding": coding})
        etag = first.headers["ETag"]
        etags.add(etag)
        again = client.get(url, headers={"Accept-Encoding": coding, "If-None-Match": etag})
        assert again.status_code == 304
        assert again.get_data() == b""
    assert len(etags) == 2
    with client.get(url) as plain:
        etag = plain.headers["ETag"]
    with client.get(url, headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304


def test_images_are_not_compressed_again(client: FlaskClient) -> None:
    url = _asset_url(client, "icons/icon-192.png")
    with client.get(url, headers={"Accept-Encoding": "gzip, br"}) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        assert "Content-Encoding" not in response.headers
        assert response.get_data().startswith(b"\x89PNG")


@pytest.fixture
def compress_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str, bool]]:
    """Every call of the compressor, with an empty store of pre-compressed assets."""
    calls: list[tuple[int, str, bool]] = []
    real = compression.compress

    def counting(data: bytes, coding: str, *, best: bool = False) -> bytes:
        calls.append((len(data), coding, best))
        return real(data, coding, best=best)

    monkeypatch.setattr(compression, "compress", counting)
    monkeypatch.setattr(compression, "_precompressed", {})
    return calls


def test_assets_are_compressed_once_at_start_not_per_request(
    settings: Settings, compress_calls: list[tuple[int, str, bool]]
) -> None:
    app = create_app(settings, TESTING=True)
    encoded = app.extensions["asset_encodings"]
    assert set(ASSETS) <= set(encoded)
    assert "icons/icon-192.png" not in encoded
    at_start = list(compress_calls)
    assert len(at_start) == 2 * len(encoded)
    assert all(best for _, _, best in at_start)

    create_app(settings, TESTING=True)  # a second app (a second worker's import) shares them
    client = app.test_client()
    urls = [
        f"/assets/{app.extensions['asset_versions'][filename]}/{filename}" for filename in ASSETS
    ]
    for _ in range(3):
        for url in urls:
            for coding in ("gzip", "br"):
                response = client.get(url, headers={"Accept-Encoding": coding})
                assert response.headers["Content-Encoding"] == coding
    assert compress_calls == at_start
