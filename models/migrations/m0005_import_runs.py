"""Import runs: the persisted state of each initial import, so it can be shown live,
resumed after a crash, and retried."""

STATEMENTS = [
    """CREATE TABLE import_run (
        id INTEGER PRIMARY KEY,
        business_id INTEGER NOT NULL REFERENCES business (id) ON DELETE CASCADE,
        status TEXT NOT NULL DEFAULT 'queued',
        reason TEXT NOT NULL DEFAULT 'connect',
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
        position TEXT)""",
    # One import at a time per business, across every process sharing the database.
    """CREATE UNIQUE INDEX import_run_one_active ON import_run (business_id)
        WHERE status IN ('queued', 'running')""",
    "CREATE INDEX import_run_latest ON import_run (business_id, id DESC)",
]


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
