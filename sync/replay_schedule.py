"""When we replay a failed webhook event ourselves, and when we stop.

Stripe retries a failed delivery for three days and then gives up; so do we, from the
stored payload, on a schedule that covers at least those three days: 1 s after the
failure, doubling to an hour, then hourly (83 replays over 72 h). Each replay is a task
scheduled on the job queue (``sync.webhooks.replay_event``), so the schedule survives
restarts (Huey keeps scheduled tasks in its SQLite file or in Redis). The row records
how far it got (models/webhook_replays.py); after the last replay the event stays
"failed" with nothing due, which is what the owner's health panel lists, with Replay.
While the database itself is down nothing can be recorded, so the replays never stop
then: the last interval repeats until the outcome can be written.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from peewee import DatabaseError

from models import webhook_replays
from models.user import utcnow

FIRST_DELAY = 1.0  # seconds from the failure to our first replay
GROWTH = 2.0
LONGEST_DELAY = 3600.0
COVERS = timedelta(days=3)  # Stripe's own retries end after three days


def _delays() -> tuple[float, ...]:
    delays, delay, total = [], FIRST_DELAY, 0.0
    while total < COVERS.total_seconds():
        delays.append(delay)
        total += delay
        delay = min(delay * GROWTH, LONGEST_DELAY)
    return tuple(delays)


# DELAYS[n] is the wait before replay n + 1.
DELAYS = _delays()
ATTEMPTS = len(DELAYS)


def _due(delay: float):
    return utcnow() + timedelta(seconds=delay)


def begin(fields: dict) -> bool:
    """A delivery failed: whether to schedule replay 1 (after ``DELAYS[0]``). No when
    a schedule of this event is already under way; yes when the database cannot say."""
    try:
        return webhook_replays.start(fields, _due(DELAYS[0]))
    except DatabaseError:
        return True


def after_failure(fields: dict, attempt: int) -> tuple[int, float] | None:
    """Replay ``attempt`` failed: the next replay and its delay, or None when there is
    none (the last one failed and is recorded, or another schedule is further along)."""
    if attempt >= ATTEMPTS:
        following, delay = None, None
    else:
        following, delay = attempt + 1, DELAYS[attempt]
    try:
        recorded = webhook_replays.step(fields, attempt, _due(delay) if delay else None)
    except DatabaseError:  # unrecorded, so never the last
        return (following or ATTEMPTS), (delay or LONGEST_DELAY)
    if not recorded or following is None:
        return None
    return following, delay


def after_success(event_id: str) -> None:
    """The replay (or a delivery meanwhile) applied the event."""
    # The outcome is final either way; a stale due time is then moot.
    with contextlib.suppress(DatabaseError):
        webhook_replays.done(event_id)
