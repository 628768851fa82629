"""Stripe webhook events, recorded once each so deliveries are idempotent and the
sync health panel can show what arrived."""

STATEMENTS = [
    """CREATE TABLE webhook_event (
        id INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        account_id TEXT,
        business_id INTEGER REFERENCES business (id) ON DELETE SET NULL,
        livemode INTEGER NOT NULL DEFAULT 0,
        created INTEGER NOT NULL,
        stripe_customer_id TEXT,
        received_at TEXT NOT NULL,
        outcome TEXT NOT NULL,
        error TEXT,
        attempts INTEGER NOT NULL DEFAULT 1,
        -- Settled by fetching the customer from Stripe (a same-second tie).
        refetched INTEGER NOT NULL DEFAULT 0,
        payload TEXT NOT NULL)""",
    # The health panel's queries (recent events, counts over 24 h) are range scans of
    # one business; type and outcome ride along so the counts never touch the table.
    """CREATE INDEX webhook_event_recent
        ON webhook_event (business_id, received_at, type, outcome)""",
]
POSTGRES_BOOLEANS = ("livemode", "refetched")


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
