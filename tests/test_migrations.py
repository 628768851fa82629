"""Migrations: 0001 → latest keeps data; 0007 backfills counts and search; re-runs are
no-ops."""

from __future__ import annotations

import pytest

from models.customer_list import list_page, stats
from models.db import db, init_db
from models.migrations import applied_versions, available, migrate

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def database(tmp_path):
    init_db(str(tmp_path / "migrations.sqlite3"))
    with db.connection_context():
        yield db


def _insert_customers(database, business_id: int) -> None:
    for i, (name, stripe_id, deleted) in enumerate(
        [
            ("Ada Lovelace", "cus_1", None),
            ("Grace Hopper", None, None),
            ("Alan Turing", "cus_2", "2026-01-01 00:00:00"),
        ]
    ):
        database.execute_sql(
            "INSERT INTO customer (business_id, name, email, stripe_customer_id,"
            " customer_since, created_at, updated_at, deleted_in_stripe_at)"
            " VALUES (?, ?, ?, ?, ?, '2026-01-01', '2026-01-01', ?)",
            (business_id, name, f"p{i}@example.com", stripe_id, 1_700_000_000 + i, deleted),
        )


def _insert_owner(database) -> int:
    database.execute_sql(
        "INSERT INTO user (email, password_hash, created_at) VALUES ('o@example.com', 'x', '')"
    )
    database.execute_sql(
        "INSERT INTO business (owner_id, name, is_primary, created_at) VALUES (1, 'B', 1, '')"
    )
    return 1


def test_upgrade_from_0001_keeps_data(database):
    migrate(database, target=1)
    _insert_customers(database, _insert_owner(database))
    migrate(database)
    assert max(applied_versions(database)) == available()[-1].version
    rows = database.execute_sql("SELECT name FROM customer ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["Ada Lovelace", "Grace Hopper", "Alan Turing"]


def test_0007_backfills_counts_and_search_index(database):
    migrate(database, target=6)
    _insert_customers(database, _insert_owner(database))
    migrate(database)
    assert {k: v for k, v in stats(1).items() if k != "changes"} == {
        "all": 3,
        "synced": 1,
        "not_synced": 1,
        "deleted": 1,
    }
    assert [row.name for row in list_page(1, q="hopp").rows] == ["Grace Hopper"]
    assert [row.name for row in list_page(1, sync="deleted").rows] == ["Alan Turing"]


def test_rerun_is_a_no_op(database):
    assert migrate(database)
    schema = database.execute_sql("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    assert migrate(database) == []
    assert database.execute_sql("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema


@pytest.mark.parametrize("sync", ["synced", "not_synced", "deleted"])
def test_each_filter_reads_its_partial_index(database, sync):
    from models.customer_list import _scoped

    migrate(database)
    sql, params = _scoped(1, sync).limit(50).sql()
    plan = " ".join(r[-1] for r in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert f"customer_list_{sync}" in plan and "TEMP B-TREE" not in plan


def test_0010_moves_search_to_the_business_scoped_index(tmp_path):
    """Rows written before 0010 (name, email, Stripe's object) are found afterwards by
    name, phone and metadata; the old index is gone; runs gain their skip counter."""
    from models.customer_search import matching_ids
    from tests.conftest import database_at

    database_at(tmp_path, 8)
    with db.connection_context():
        db.execute_sql(
            "INSERT INTO customer (business_id, name, email, customer_since, created_at,"
            " updated_at, stripe_object) VALUES (1, 'Ada Lovelace', 'ada@example.com',"
            " 1700000000, '2026-01-01', '2026-01-01', ?)",
            ('{"phone": "+1 555 0100", "metadata": {"crm": "HS-4471"}}',),
        )
        db.execute_sql(
            "INSERT INTO import_run (business_id, status, reason, queued_at, heartbeat_at,"
            " seen, created, updated, pages, progress, attempts, phase)"
            " VALUES (1, 'succeeded', 'connect', '2026-01-01', '2026-01-01', 0, 0, 0, 0, 0,"
            " 1, 'slices')"
        )
        assert 10 in migrate(db)
        for q in ("lovelace", "555 01", "hs-44", "ad"):
            assert len(matching_ids(1, q)) == 1, q
        tables = {row[0] for row in db.execute_sql("SELECT name FROM sqlite_master")}
        assert "customer_fts" not in tables and "customer_search" in tables
        assert db.execute_sql("SELECT skipped, skipped_reason FROM import_run").fetchone() == (
            0,
            None,
        )


def test_0014_adds_catch_up_state_and_keeps_events(tmp_path):
    """Events recorded before 0014 count as delivered by the webhook; the catch-up
    state table starts empty; the held-events index exists."""
    from tests.conftest import database_at

    database_at(tmp_path, 12)
    with db.connection_context():
        db.execute_sql(
            "INSERT INTO webhook_event (event_id, type, account_id, business_id, created,"
            " received_at, outcome, payload) VALUES ('evt_1', 'customer.created', 'acct_1',"
            " 1, 1700000000, '2026-01-01', 'applied', '{}')"
        )
        assert 14 in migrate(db)
        assert db.execute_sql("SELECT recovered FROM webhook_event").fetchone() == (0,)
        assert db.execute_sql("SELECT count(*) FROM catch_up_state").fetchone() == (0,)
        indexes = {row[0] for row in db.execute_sql("SELECT name FROM sqlite_master")}
        assert "webhook_event_held" in indexes
