"""`make bench`: how long the operations people wait on take, on SQLite and on PostgreSQL.

Measured here, never asserted in tests (timings depend on the machine). Each figure is the
median of repeated runs in a fresh, migrated, demo-seeded database. Results print as a table
and are kept in test-artifacts/bench.json to compare between commits on the same machine.
"""

from __future__ import annotations

import json
import logging
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient
from sqlmodel import func, select

from app import create_app, migrate
from app.config import Settings
from app.db import Database
from app.models import AuditEvent
from app.services.accounts.auth import find_user
from app.services.core import audit
from app.services.core.actors import SystemActor
from app.services.demo import DEMO_PASSWORD, seed_demo
from app.services.mbr import reading
from tests import db as testdb
from tests.clock import CLOCK

ROOT = Path(__file__).resolve().parents[2]
SYSTEM = SystemActor("cli:bench")


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def _first_load_kb(client: FlaskClient, page: str, accept_encoding: str) -> float:
    """Body bytes a browser with an empty cache downloads for `page`: the page and its assets."""
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
    with client.get(page, headers=headers) as response:
        total = len(response.get_data())
    html = client.get(page).get_data(as_text=True)
    for asset in sorted(set(re.findall(r'(?:href|src)="(/assets/[^"]+)"', html))):
        with client.get(asset, headers=headers) as response:
            total += len(response.get_data())
    return round(total / 1024, 1)


def bench(url: str) -> dict[str, float]:
    migrate.upgrade(url)
    db = Database(url)
    with db.session_scope() as s:
        seed_demo(s, actor=SYSTEM, clock=CLOCK)
    results: dict[str, float] = {}

    def write_events() -> None:
        with db.session_scope() as s:
            for i in range(100):
                audit.record(
                    s,
                    actor=SYSTEM,
                    action="bench.event",
                    entity_type="bench",
                    entity_id=i,
                    clock=CLOCK,
                )

    results["audit: 100 events in one transaction (ms)"] = _median_ms(write_events, 5)
    with db.session_scope() as s:
        events = s.exec(select(func.count()).select_from(AuditEvent)).one()

    def verify() -> None:
        with db.session_scope() as s:
            assert audit.verify_chain(s).ok

    results[f"audit verify: whole chain of {events} events (ms)"] = _median_ms(verify, 5)

    with db.session_scope() as s:
        revision = reading.effective_revision(s, "VC500")
        revision_id = revision.id if revision else None
    if revision_id is not None:

        def load() -> None:
            with db.session_scope() as s:
                reading.load_revision(s, revision_id)

        results["MBR: load VC500 rev B with steps, limits, BOM (ms)"] = _median_ms(load, 50)

    settings = Settings.from_env(
        database_url=url, secret_key="bench", webauthn_origins=("http://localhost",)
    )
    app = create_app(settings, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    client.post("/login", data={"username": "ada", "password": DEMO_PASSWORD})
    pages = ["/", "/recipes/", "/audit/", "/lots/", "/lots/ASC-2409-02", "/equipment/"]
    if revision_id is not None:
        pages.append(f"/recipes/revisions/{revision_id}")
    for page in pages:
        results[f"HTTP GET {page} as ada (ms)"] = _median_ms(lambda p=page: client.get(p), 30)
    for encoding, label in (("", "raw"), ("gzip", "gzip"), ("br, gzip", "br")):
        results[f"bytes: /lots/receive first load, page + assets, {label} (KB)"] = _first_load_kb(
            client, "/lots/receive", encoding
        )
    with db.session_scope() as s:
        assert find_user(s, "ada") is not None
    db.engine.dispose()
    app.extensions["db"].engine.dispose()
    return results


def main() -> None:
    logging.disable(logging.INFO)  # the per-request log lines would drown the table
    all_results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        all_results["sqlite"] = bench(testdb.sqlite_url(Path(tmp) / "bench.sqlite3"))
    base = testdb.postgres_base_url()
    if base is not None:
        url = testdb.create_pg_database(base, "bench")
        try:
            all_results["postgresql"] = bench(url)
        finally:
            testdb.drop_pg_database(url)
    names = list(next(iter(all_results.values())))
    width = max(len(n) for n in names)
    print(f"{'':{width}}  " + "  ".join(f"{b:>10}" for b in all_results))
    for name in names:
        row = "  ".join(f"{all_results[b].get(name, float('nan')):>10}" for b in all_results)
        print(f"{name:{width}}  {row}")
    out = ROOT / "test-artifacts" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(all_results, indent=2))
    print(f"\nSaved to {out.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
