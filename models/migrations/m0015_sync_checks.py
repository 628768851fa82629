"""Sync checks: the runs behind "Sync now" (a catch-up from Stripe's events) and
"Check every customer" (a reconciliation), whether the owner, an operator, the
schedule or a gap in the events started them.

The table has every column of ``import_run`` (a check is paced, resumed and fenced by
the same machinery, models/sync_check.py says why; ``account_id`` and ``generation`` are
the link the check was started for, migration 0013's fence) and the counts the owner reads: how
many customers were checked, corrected and marked deleted, the events recovered, and the
Stripe requests estimated beforehand and actually spent. One check at a time per
business, enforced here by a partial unique index: a second click joins the running one.
"""

STATEMENTS = [
    """CREATE TABLE sync_check (
        id INTEGER PRIMARY KEY,
        business_id INTEGER NOT NULL REFERENCES business (id) ON DELETE CASCADE,
        kind TEXT NOT NULL DEFAULT 'reconcile',
        account_id TEXT,
        generation INTEGER,
        status TEXT NOT NULL DEFAULT 'queued',
        reason TEXT NOT NULL DEFAULT 'owner',
        queued_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        heartbeat_at TEXT NOT NULL,
        owner_token TEXT,
        seen INTEGER NOT NULL DEFAULT 0,
        created INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        pages INTEGER NOT NULL DEFAULT 0,
        total INTEGER,
        progress INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        attempts INTEGER NOT NULL DEFAULT 1,
        retry_at TEXT,
        stripe_started_at INTEGER,
        phase TEXT NOT NULL DEFAULT 'slices',
        skipped INTEGER NOT NULL DEFAULT 0,
        skipped_reason TEXT,
        position TEXT,
        checked INTEGER NOT NULL DEFAULT 0,
        corrected INTEGER NOT NULL DEFAULT 0,
        marked_deleted INTEGER NOT NULL DEFAULT 0,
        recovered INTEGER NOT NULL DEFAULT 0,
        requests INTEGER NOT NULL DEFAULT 0,
        estimate INTEGER)""",
    # One check at a time per business, across every process sharing the database.
    """CREATE UNIQUE INDEX sync_check_one_active ON sync_check (business_id)
        WHERE status IN ('queued', 'running')""",
    "CREATE INDEX sync_check_latest ON sync_check (business_id, kind, id DESC)",
]


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
