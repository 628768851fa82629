"""Postgres counterparts of the SQLite plan tests (tests/test_migrations.py): each Sync
filter can walk its partial index in list order, and search can use the pg_trgm GIN
index. Sequential scans and sorts are turned off for the one transaction, so the
question is "can the planner use the index?", not "does it prefer it on a ten-row
table?"; bench/list_page.py --database postgres measures what it does at 2M rows."""

from __future__ import annotations

import pytest

from models.customer_list import _scoped
from models.customer_search_postgres import SEARCH_TEXT, like_pattern
from models.db import db
from models.migrations import available, m0010_search_and_skips, migrate
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
    business id in it), so other businesses' matches cost it nothing."""
    one_of_each_state(business)
    plan = _plan(
        f"SELECT id FROM customer WHERE business_id = %s AND {SEARCH_TEXT} ILIKE %s",
        (business.id, like_pattern("dora")),
    )
    assert "customer_search" in plan and "business_id" in plan


def test_the_query_spells_the_indexed_expression():
    index = next(s for s in m0010_search_and_skips.POSTGRES_STATEMENTS if "USING gin" in s)
    assert f"(business_id, {SEARCH_TEXT} gin_trgm_ops)" in " ".join(index.split())


def test_migrations_rerun_as_a_no_op(app):
    with db.connection_context():
        assert migrate(db) == []
        versions = {row[0] for row in db.execute_sql("SELECT version FROM schema_migrations")}
    assert versions == {m.version for m in available()}
