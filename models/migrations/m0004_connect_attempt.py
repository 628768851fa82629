"""Pending Stripe Connect attempts: the OAuth ``state`` kept server-side, so each
authorization code is exchanged at most once even on a refresh or double submit."""

STATEMENTS = [
    """CREATE TABLE connect_attempt (
        id INTEGER PRIMARY KEY,
        business_id INTEGER NOT NULL REFERENCES business (id) ON DELETE CASCADE,
        state_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        consumed_at TEXT,
        account_id TEXT,
        livemode INTEGER NOT NULL DEFAULT 0,
        resolved_at TEXT)""",
    "CREATE INDEX connect_attempt_business ON connect_attempt (business_id, created_at)",
]
POSTGRES_BOOLEANS = ("livemode",)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
