"""Catch-up from Stripe's events.

- ``catch_up_state``: one row per business: the high-water mark of its account's
  events (a Stripe second), what the last run listed, recovered and cost, whether
  catch-up found a gap it cannot cover (``needs_reconcile``), and the claim that keeps
  one catch-up per business at a time across processes (``running_token`` with its
  heartbeat ``running_at``).
- ``webhook_event.recovered``: the event was recorded by catch-up, not delivered by
  Stripe's webhook (so "no delivery for N minutes" can be told apart).
- ``webhook_event_held``: events that arrived while Stripe was disconnected, held for
  the business that was linked to their account until it reconnects (a partial index:
  there are few, and catch-up and the health panel look them up by account).
"""

STATEMENTS = [
    """CREATE TABLE catch_up_state (
        id INTEGER PRIMARY KEY,
        business_id INTEGER NOT NULL UNIQUE REFERENCES business (id) ON DELETE CASCADE,
        account_id TEXT,
        mark INTEGER,
        last_run_at TEXT,
        last_trigger TEXT,
        last_listed INTEGER NOT NULL DEFAULT 0,
        last_recovered INTEGER NOT NULL DEFAULT 0,
        total_recovered INTEGER NOT NULL DEFAULT 0,
        last_requests INTEGER NOT NULL DEFAULT 0,
        needs_reconcile INTEGER NOT NULL DEFAULT 0,
        gap_found_second INTEGER,
        last_error TEXT,
        running_token TEXT,
        running_at TEXT)""",
    "ALTER TABLE webhook_event ADD COLUMN recovered INTEGER NOT NULL DEFAULT 0",
    """CREATE INDEX webhook_event_held ON webhook_event (account_id, created)
        WHERE outcome = 'held'""",
]
POSTGRES_BOOLEANS = ("needs_reconcile", "recovered")


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
