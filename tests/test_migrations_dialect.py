"""Migrations in SQLite's spelling, translated for Postgres (models/migrations/postgres.py),
and a guard that no migration hands Postgres a SQLite-only form."""

from __future__ import annotations

import re

import pytest

from models.migrations import available, postgres_statements
from models.migrations.postgres import translate


@pytest.mark.parametrize(
    ("sqlite", "postgres"),
    [
        ("(id INTEGER PRIMARY KEY, x TEXT)", "(id BIGSERIAL PRIMARY KEY, x TEXT)"),
        ("created_at TEXT, x TEXT", "created_at TIMESTAMP, x TEXT"),
        ("VALUES (datetime('now'))", "VALUES ((now() AT TIME ZONE 'UTC'))"),
        ("CREATE TABLE user (", 'CREATE TABLE "user" ('),
        ("REFERENCES user (id)", 'REFERENCES "user" (id)'),
        ("INSERT INTO user (email)", 'INSERT INTO "user" (email)'),
        ("user_id INTEGER", "user_id INTEGER"),
        ('REFERENCES "user" (id)', 'REFERENCES "user" (id)'),
    ],
    ids=["primary-key", "timestamps", "now", "create-user", "references-user", "insert-user",
         "user-prefixed-column", "already-quoted"],
)  # fmt: skip
def test_mechanical_forms(sqlite, postgres):
    assert translate(sqlite) == postgres


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("is_primary INTEGER NOT NULL DEFAULT 0", "is_primary BOOLEAN NOT NULL DEFAULT false"),
        ("livemode INTEGER DEFAULT 1", "livemode BOOLEAN DEFAULT true"),
    ],
    ids=["not-null-false", "nullable-true"],
)
def test_named_booleans(column, expected):
    assert translate(column, {"is_primary", "livemode"}) == expected


_SQLITE_ONLY = [
    r"\bINTEGER PRIMARY KEY\b",
    r"datetime\(",
    r"\bfts5\b",
    r"\bINDEXED BY\b",
    r"\bIMMEDIATE\b",
    r"AFTER (INSERT|UPDATE|DELETE)[^;]*\bBEGIN\b",  # a SQLite trigger body
    r"\b\w+_at\s+TEXT\b",  # a timestamp left as text
]


@pytest.mark.parametrize("migration", available(), ids=lambda m: m.name)
def test_no_sqlite_only_sql_reaches_postgres(migration):
    for statement in postgres_statements(migration.module):
        for pattern in _SQLITE_ONLY:
            assert not re.search(pattern, statement, re.I | re.S), (pattern, statement)
