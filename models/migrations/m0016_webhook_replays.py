"""Our own replays of a failed webhook event, on its row: how many were made and when
the next is due (NULL when none is: applied, or the replays ran out after three days),
so the owner's health panel can show the events that are no longer retried, with a
Replay action. Two partial indexes find a business's failed events (routed to it, or
from its accounts but never routed) without reading its other events."""

STATEMENTS = [
    "ALTER TABLE webhook_event ADD COLUMN replay_attempts INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE webhook_event ADD COLUMN next_replay_at TEXT",
    """CREATE INDEX webhook_event_failed ON webhook_event (business_id, received_at)
        WHERE outcome = 'failed'""",
    """CREATE INDEX webhook_event_failed_unrouted ON webhook_event (account_id, received_at)
        WHERE outcome = 'failed' AND business_id IS NULL""",
]


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
