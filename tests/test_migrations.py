"""Migrations are the only way the schema changes: they agree with the models, build from empty,
go back down and up again, and leave the database's own guards in place on both backends."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DatabaseError

from app import migrate
from app.db import make_engine
from app.models import metadata


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def test_models_and_migrations_agree(migrated_engine: Engine) -> None:
    """What `batchbook db revision` would autogenerate after `upgrade head`: nothing."""
    assert _differences(migrated_engine) == []


def test_one_head_and_a_linear_history() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        assert not revision.is_merge_point


def test_downgrade_to_empty_and_upgrade_again_keeps_the_guards(
    backend: str, fresh_database: Callable[[str], str]
) -> None:
    url = fresh_database(backend)
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 0

        migrate.upgrade(url)

        assert _differences(engine) == []
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO audit_event (occurred_at, actor_username, action, entity_type,"
                    " entity_id, prev_hash, row_hash) VALUES (CURRENT_TIMESTAMP, 'x', 'a', 'e',"
                    " '1', '', 'h')"
                )
            )
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text("UPDATE audit_event SET action = 'b'"))
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_event"))
    finally:
        engine.dispose()


def _ledger_before_batch_keys(url: str, batch_no_of_movement: str) -> Engine:
    """A database at the revision before movements named batches by key, holding one batch and
    one issue movement that names it by its number (foreign keys off: only these rows matter)."""
    migrate.upgrade(url, "a290b43d13a1")
    # SQLite checks foreign keys only when asked (make_engine asks): a plain engine does not.
    engine = make_engine(url) if url.startswith("postgresql") else create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(
            text(
                "INSERT INTO user_account (id, username, full_name, roles, password_hash, active,"
                " created_at, failed_logins, signing_failures) VALUES (1, 'walt', 'Walter Brandt',"
                " 'warehouse', 'x', TRUE, CURRENT_TIMESTAMP, 0, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO lot (id, lot_code, material_id, supplier_lot, status, unit,"
                " containers, received_at, received_by_id) VALUES (1, 'ASC-2611-01', 1, 'S-1',"
                " 'released', 'kg', 1, CURRENT_TIMESTAMP, 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO batch (id, batch_no, recipe_id, revision_id, planned_quantity, unit,"
                " status, customer_po, created_at, created_by_id) VALUES (7, 'VC500-26-0042', 1,"
                " 1, '100000', 'tablet', 'planned', '', CURRENT_TIMESTAMP, 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO inventory_movement (lot_id, kind, quantity, unit, batch_no, reference,"
                " at, by_id) VALUES (1, 'issue', '-2', 'kg', :batch_no, 'issue',"
                " CURRENT_TIMESTAMP, 1)"
            ),
            {"batch_no": batch_no_of_movement},
        )
    return engine


def test_movements_keep_their_batch_as_a_key_through_the_migration(
    backend: str, fresh_database: Callable[[str], str]
) -> None:
    url = fresh_database(backend)
    engine = _ledger_before_batch_keys(url, "VC500-26-0042")
    try:
        migrate.upgrade(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT batch_id FROM inventory_movement")).scalar_one() == 7
        # The ledger is append-only again after the one rewrite.
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text("UPDATE inventory_movement SET batch_id = NULL"))
    finally:
        engine.dispose()


def test_a_movement_naming_no_batch_stops_the_migration(
    backend: str, fresh_database: Callable[[str], str]
) -> None:
    url = fresh_database(backend)
    engine = _ledger_before_batch_keys(url, "NO-SUCH-BATCH")
    try:
        with pytest.raises(RuntimeError, match="NO-SUCH-BATCH"):
            migrate.upgrade(url)
    finally:
        engine.dispose()


def test_documents_become_their_revision_n_effective_under_their_own_id(
    backend: str, fresh_database: Callable[[str], str]
) -> None:
    """Today's SOP (edited in place, revision 3) becomes revision 3, effective, keeping its id
    (signatures made on it name that id); new revisions number on; its text is frozen."""
    url = fresh_database(backend)
    migrate.upgrade(url, "b4c7d8e9fa61")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO document (id, code, title, revision, body) VALUES"
                    " (5, 'SOP-QA-001', 'Good documentation practice', '3', 'Record it.')"
                )
            )
        migrate.upgrade(url)
        with engine.begin() as conn:
            row = conn.execute(
                text(
                    "SELECT id, document_id, revision, status, body, effective_at, created_by_id"
                    " FROM document_revision"
                )
            ).one()
            assert tuple(row) == (5, 5, "3", "effective", "Record it.", None, None)
            conn.execute(
                text(
                    "INSERT INTO document_revision (document_id, revision, status, body,"
                    " change_note, created_at) VALUES (5, '4', 'draft', 'x', '', CURRENT_TIMESTAMP)"
                )
            )
            assert conn.execute(text("SELECT max(id) FROM document_revision")).scalar_one() > 5
        with pytest.raises(DatabaseError, match="frozen"), engine.begin() as conn:
            conn.execute(text("UPDATE document_revision SET body = 'Tampered' WHERE id = 5"))
    finally:
        engine.dispose()


def test_fsma_204_revision_freezes_advices_already_sent_and_keeps_output_tlcs(
    backend: str, fresh_database: Callable[[str], str]
) -> None:
    """A shipment despatched before advices were frozen gets the advice its despatch event
    recorded (what was sent), never one rebuilt from today's parties; an output lot keeps its
    own code as TLC with our site as source, as it was shipped before."""
    url = fresh_database(backend)
    migrate.upgrade(url, "b4c7d8e9fa61")
    engine = make_engine(url) if url.startswith("postgresql") else create_engine(url)
    sent = '{"lines":[{"traceability_lot_code":"VC500-26-0042"}],"ship_to":{"city":"Portland"}}'
    rows = [
        "INSERT INTO user_account (id, username, full_name, roles, password_hash, active,"
        " created_at, failed_logins, signing_failures) VALUES (1, 'walt', 'Walter Brandt',"
        " 'warehouse', 'x', TRUE, CURRENT_TIMESTAMP, 0, 0)",
        *(
            "INSERT INTO party (id, code, kind, business_name, phone, street, city, region,"
            f" postal_code, country, active, created_at) VALUES ({n}, '{code}', '{kind}', 'P',"
            " '1', 'S', 'C', '', 'Z', 'US', TRUE, CURRENT_TIMESTAMP)"
            for n, code, kind in ((1, "CUST-1", "customer"), (2, "SITE-MAIN", "site"))
        ),
        "INSERT INTO lot (id, lot_code, material_id, supplier_lot, status, unit, containers,"
        " received_at, received_by_id) VALUES (1, 'VC500-26-0042', 1, '', 'released', 'tablets',"
        " 1, CURRENT_TIMESTAMP, 1)",
        "INSERT INTO lot (id, lot_code, material_id, supplier_lot, status, unit, containers,"
        " received_at, received_by_id) VALUES (2, 'ASC-2611-07', 1, 'S-1', 'released', 'kg',"
        " 1, CURRENT_TIMESTAMP, 1)",
        "INSERT INTO inventory_movement (lot_id, kind, quantity, unit, reference, at, by_id)"
        " VALUES (1, 'production', '100', 'tablets', 'output', CURRENT_TIMESTAMP, 1)",
        "INSERT INTO inventory_movement (lot_id, kind, quantity, unit, reference, at, by_id)"
        " VALUES (2, 'receipt', '5', 'kg', 'receipt', CURRENT_TIMESTAMP, 1)",
        "INSERT INTO shipment (id, shipment_no, customer_id, ship_from_id, reference, status,"
        " created_at, created_by_id, shipped_at, shipped_by_id) VALUES (7, 'SH-261203-01', 1, 2,"
        " '', 'shipped', CURRENT_TIMESTAMP, 1, CURRENT_TIMESTAMP, 1)",
    ]
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            for row in rows:
                conn.execute(text(row))
            conn.execute(
                text(
                    "INSERT INTO audit_event (occurred_at, actor_username, action, entity_type,"
                    " entity_id, after, prev_hash, row_hash) VALUES (CURRENT_TIMESTAMP, 'walt',"
                    " 'shipment.despatched', 'shipment', '7', :after, '', 'h')"
                ),
                {"after": sent},
            )

        migrate.upgrade(url)

        with engine.connect() as conn:
            frozen = conn.execute(
                text("SELECT shipment_id, format, content, sha256 FROM despatch_advice")
            ).one()
            lots = conn.execute(text("SELECT lot_code, tlc, tlc_source_id FROM lot ORDER BY id"))
            assert list(lots) == [
                ("VC500-26-0042", "VC500-26-0042", 2),
                ("ASC-2611-07", None, None),
            ]
        assert tuple(frozen) == (7, 0, sent, hashlib.sha256(sent.encode()).hexdigest())
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text("UPDATE despatch_advice SET content = '{}'"))
    finally:
        engine.dispose()
