"""Migration 0003 upgrades a version-2 database without losing its data."""

from __future__ import annotations

import pytest
from peewee import IntegrityError

from models.db import db
from models.migrations import applied_versions, migrate
from tests.conftest import database_at

pytestmark = pytest.mark.sqlite_only


def test_upgrade_from_version_2_keeps_data(tmp_path):
    assert database_at(tmp_path, 2) == [1, 2]
    db.execute_sql(
        "INSERT INTO customer (id, business_id, name, email, stripe_customer_id, customer_since,"
        " created_at, updated_at, stripe_version_at) VALUES"
        " (7, 1, 'Ada', 'Ada@Example.com', 'cus_1', 1700000000, 'now', 'now', 1700000001)"
    )

    assert 3 in migrate(db)

    assert 3 in applied_versions(db)
    row = db.execute_sql(
        "SELECT name, email, stripe_customer_id, stripe_version_at FROM customer WHERE id = 7"
    ).fetchone()
    assert row == ("Ada", "Ada@Example.com", "cus_1", 1700000001)
    # The new tables work against the old rows.
    db.execute_sql(
        "INSERT INTO api_token (business_id, created_by_id, name, prefix, token_hash, created_at)"
        " VALUES (1, 1, 'agent', 'shai_abc', 'h1', 'now')"
    )
    db.execute_sql(
        "INSERT INTO idempotency_key (business_id, token_id, key, fingerprint, created_at)"
        " VALUES (1, 1, 'k', 'f', 'now')"
    )
    try:
        db.execute_sql(
            "INSERT INTO idempotency_key (business_id, key, fingerprint, created_at)"
            " VALUES (1, 'k', 'g', 'now')"
        )
        raise AssertionError("a key was stored twice for one business")
    except IntegrityError:
        pass
    plan = db.execute_sql(
        "EXPLAIN QUERY PLAN SELECT id FROM customer WHERE business_id = 1"
        " AND lower(email) = lower(?) ORDER BY id LIMIT 1",
        ("ADA@example.com",),
    ).fetchall()
    assert any("customer_email_lower" in str(step) for step in plan)
    db.close()
