"""Our own replays of failed webhook events, as recorded on the event's row
(``replay_attempts``, ``next_replay_at``). The schedule itself — how long to wait and
when to stop — is sync/replay_schedule.py's; this module only says what one row holds.

Each write is one conditional upsert, so that two schedules of one event (a second
failed delivery while one runs, two processes) cannot both go on: a schedule starts only
when none is under way, and a step is recorded only when it is further along than the
row. The row is created when the failed delivery could not write it (the database was
what failed), because the replay must be seen even if it never succeeds.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from peewee import SQL

from models.db import execute
from models.user import utcnow
from models.webhook_event import FAILED, FINAL, WebhookEvent

# A replay more than this late was lost with its queue (a Redis that kept nothing):
# the event counts as no longer retried, and a new failure may start a new schedule.
OVERDUE = timedelta(hours=1)
_FINAL_SQL = ", ".join(f"'{outcome}'" for outcome in FINAL)

_UPSERT = f"""INSERT INTO webhook_event (event_id, type, account_id, livemode, created,
    stripe_customer_id, received_at, outcome, error, attempts, payload, replay_attempts,
    next_replay_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, '{FAILED}', ?, 1, ?, ?, ?)
    ON CONFLICT (event_id) DO UPDATE SET outcome = '{FAILED}',
        error = COALESCE(webhook_event.error, excluded.error),
        replay_attempts = excluded.replay_attempts, next_replay_at = excluded.next_replay_at
    WHERE webhook_event.outcome NOT IN ({_FINAL_SQL}) AND {{condition}}
    RETURNING id"""
# A new schedule: none is under way (never started, ran out, or lost).
_START = _UPSERT.format(
    condition="(webhook_event.next_replay_at IS NULL OR webhook_event.next_replay_at < ?)"
)
# One more replay failed: recorded only by the schedule furthest along.
_STEP = _UPSERT.format(condition="webhook_event.replay_attempts < excluded.replay_attempts")
_DONE = f"""UPDATE webhook_event SET next_replay_at = NULL
    WHERE event_id = ? AND outcome IN ({_FINAL_SQL})"""


def _values(fields: dict, attempts: int, next_at: datetime | None) -> list:
    return [
        fields["event_id"],
        fields["type"],
        fields["account_id"],
        fields["livemode"],
        fields["created"],
        fields["stripe_customer_id"],
        str(utcnow()),
        fields["error"],
        fields["payload"],
        attempts,
        str(next_at) if next_at is not None else None,
    ]


def start(fields: dict, next_at: datetime) -> bool:
    """Mark the event failed with its first replay due at ``next_at``; False when a
    schedule is already under way or the event has a final outcome."""
    params = [*_values(fields, 0, next_at), str(utcnow() - OVERDUE)]
    return execute(_START, params).fetchone() is not None


def step(fields: dict, attempts: int, next_at: datetime | None) -> bool:
    """Record that ``attempts`` replays failed and when the next is due (None: no more);
    False when another schedule of the event is further along, or it was applied."""
    return execute(_STEP, _values(fields, attempts, next_at)).fetchone() is not None


def done(event_id: str) -> None:
    """The event was applied: no replay is due any more."""
    execute(_DONE, (event_id,))


def no_longer_retried(business_id: int, accounts: list[str], limit: int = 20):
    """The business's failed events that nothing retries any more, newest first: the
    replays ran out (or were lost), so only the owner or support can replay them."""
    cutoff = utcnow() - OVERDUE
    # A literal, not a parameter: only then can SQLite see the partial index applies.
    failed = WebhookEvent.outcome == SQL(f"'{FAILED}'")
    rows = []
    for source in WebhookEvent._of_business(business_id, accounts):
        query = (
            WebhookEvent.select()
            .where(
                source
                & failed
                & (WebhookEvent.next_replay_at.is_null() | (WebhookEvent.next_replay_at < cutoff))
            )
            .order_by(WebhookEvent.received_at.desc(), WebhookEvent.id.desc())
            .limit(limit)
        )
        rows.extend(query)
    rows.sort(key=lambda row: (row.received_at, row.id), reverse=True)
    return rows[:limit]
