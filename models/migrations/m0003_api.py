"""API tokens, idempotency keys of the JSON API and MCP, and the case-insensitive
email lookup that keeps direct customers from being created twice."""

STATEMENTS = [
    """CREATE TABLE api_token (
        id INTEGER PRIMARY KEY,
        business_id INTEGER NOT NULL REFERENCES business (id) ON DELETE CASCADE,
        created_by_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        scope TEXT NOT NULL DEFAULT 'read_write',
        prefix TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at TEXT)""",
    "CREATE INDEX api_token_business ON api_token (business_id, created_at DESC)",
    """CREATE TABLE idempotency_key (
        id INTEGER PRIMARY KEY,
        business_id INTEGER NOT NULL REFERENCES business (id) ON DELETE CASCADE,
        token_id INTEGER REFERENCES api_token (id) ON DELETE SET NULL,
        key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        status INTEGER,
        body TEXT,
        created_at TEXT NOT NULL)""",
    # Insert-first: the second request with a key loses the race on this index.
    "CREATE UNIQUE INDEX idempotency_key_unique ON idempotency_key (business_id, key)",
    "CREATE INDEX idempotency_key_created ON idempotency_key (created_at)",
    # "Is this email already a customer here?" ignoring case, for create and update.
    "CREATE INDEX customer_email_lower ON customer (business_id, lower(email))",
]


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
