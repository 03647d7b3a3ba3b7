"""Health check, PWA manifest and service worker, versioned long-cached static assets."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError


def test_healthz_round_trips_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_down(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlmodel import Session

    def down(self: Session, *args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(Session, "execute", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_manifest_is_installable(client: FlaskClient) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.json
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as icon_response:
            assert icon_response.status_code == 200
            assert icon_response.mimetype == "image/png"


def test_static_assets_have_versioned_names_and_long_cache(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    css = re.search(r'href="(/assets/[0-9a-f]{12}/css/app\.css)"', page)
    htmx = re.search(r'src="(/assets/[0-9a-f]{12}/lib/htmx\.min\.js)"', page)
    assert css and htmx, "assets are not served under content-hashed URLs"
    with client.get(css.group(1)) as response:
        assert response.status_code == 200
        assert "immutable" in response.headers["Cache-Control"]
        assert "max-age=31536000" in response.headers["Cache-Control"]
    stale = client.get("/assets/000000000000/css/app.css")
    assert stale.status_code == 302 and stale.headers["Location"] == css.group(1)
    assert client.get("/assets/000000000000/nope.js").status_code == 404


def test_htmx_comes_from_the_app_not_a_cdn(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "unpkg" not in page and "cdn" not in page.lower()
    assert "htmx-config" in page and '"4..' not in page  # 4xx swapped via explicit codes


def test_service_worker_caches_the_versioned_shell_and_never_posts(client: FlaskClient) -> None:
    response = client.get("/sw.js")
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    login = client.get("/login").get_data(as_text=True)
    css = re.search(r"(/assets/[0-9a-f]{12}/css/app\.css)", login).group(1)  # type: ignore[union-attr]
    assert css in body
    assert "/offline" in body
    assert 'request.method !== "GET"' in body
    assert re.search(r'const CACHE = "batchbook-[0-9a-f]{12}"', body)


def test_offline_page_says_actions_need_the_network(client: FlaskClient) -> None:
    body = client.get("/offline").get_data(as_text=True)
    assert "Nothing can be recorded or signed while this device is offline" in body
