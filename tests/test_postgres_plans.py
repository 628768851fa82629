"""Postgres counterparts of the SQLite plan tests (tests/test_migrations.py): each Sync
filter can walk its partial index in list order, and search can use the pg_trgm GIN
index. Sequential scans and sorts are turned off for the one transaction, so the
question is "can the planner use the index?", not "does it prefer it on a ten-row
table?"; bench/list_page.py --database postgres measures what it does at 2M rows."""

from __future__ import annotations

import os

import pytest

from models.customer_list import _scoped
from models.customer_search_postgres import SEARCH_TEXT, like_pattern
from models.db import db
from models.migrations import available, m0017_postgres_search_column, migrate
from tests.customer_states import one_of_each_state

pytestmark = pytest.mark.postgres_only


def _plan(sql: str, params) -> str:
    with db.atomic():
        for setting in ("enable_seqscan", "enable_sort"):
            db.execute_sql(f"SET LOCAL {setting} = off")
        return "\n".join(row[0] for row in db.execute_sql("EXPLAIN " + sql, params))


@pytest.mark.parametrize("sync", ["synced", "not_synced", "deleted"])
def test_each_filter_walks_its_partial_index_in_order(business, sync):
    one_of_each_state(business)
    query = _scoped(business.id, sync).order_by(*_order()).limit(50)
    plan = _plan(*query.sql())
    assert f"customer_list_{sync}" in plan
    assert "Sort" not in plan


def _order():
    from models.customer_list import _ORDER

    return _ORDER


def test_search_can_use_the_business_scoped_trigram_index(business):
    """The search reads the business's part of the GIN index (btree_gin puts the
    business id in it), so other businesses' matches cost it nothing. On a small table
    a btree on business_id is cheaper, so those are dropped for the one (rolled back)
    transaction: the question is whether the GIN index can serve the query."""
    one_of_each_state(business)
    with db.atomic() as transaction:
        for (name,) in db.execute_sql(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'customer'"
            " AND indexname <> 'customer_search' AND indexdef LIKE '%%(business_id%%'"
        ).fetchall():
            db.execute_sql(f'DROP INDEX "{name}"')
        db.execute_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            row[0]
            for row in db.execute_sql(
                "EXPLAIN SELECT id FROM customer"
                f" WHERE business_id = %s AND {SEARCH_TEXT} ILIKE %s",
                (business.id, like_pattern("dora")),
            )
        )
        transaction.rollback()
    assert "Bitmap Index Scan on customer_search" in plan and "business_id" in plan


def test_the_query_spells_the_indexed_expression():
    index = next(s for s in m0017_postgres_search_column.POSTGRES_STATEMENTS if "USING gin" in s)
    assert f"(business_id, {SEARCH_TEXT} gin_trgm_ops)" in " ".join(index.split())


def test_migrations_rerun_as_a_no_op(app):
    with db.connection_context():
        assert migrate(db) == []
        versions = {row[0] for row in db.execute_sql("SELECT version FROM schema_migrations")}
    assert versions == {m.version for m in available()}


def test_upgrading_to_0017_fills_the_search_column_of_existing_rows():
    """A Postgres deployment at 0016 with customers: after 0017 their phone (inside
    the stored Stripe object) is searchable through the new column and its index."""
    from urllib.parse import urlsplit

    import psycopg
    from playhouse.postgres_ext import PooledPsycopg3Database
    from psycopg import sql

    from tests.conftest import TEST_DATABASE_URL

    name = f"shingleai_upgrade_{os.getpid()}"
    with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(TEST_DATABASE_URL)
    old = PooledPsycopg3Database(name, host=parts.hostname, port=parts.port, user=parts.username)
    try:
        with old.connection_context():
            migrate(old, target=16)
            old.execute_sql(
                'INSERT INTO "user" (id, email, password_hash, created_at)'
                " VALUES (1, 'o@example.com', 'x', now())"
            )
            old.execute_sql(
                "INSERT INTO business (id, owner_id, name, is_primary, created_at)"
                " VALUES (1, 1, 'Shop', true, now())"
            )
            old.execute_sql(
                "INSERT INTO customer (business_id, name, email, customer_since, created_at,"
                " updated_at, stripe_object) VALUES (1, 'Plain', 'p@example.com', 1, now(),"
                ' now(), \'{"phone": "+44 20 7946 0018"}\')'
            )
            assert migrate(old) == [17]
            found = old.execute_sql(
                "SELECT name FROM customer WHERE business_id = 1 AND search_text ILIKE %s",
                (like_pattern("7946"),),
            ).fetchall()
        assert found == [("Plain",)]
    finally:
        old.close_all()
        with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
