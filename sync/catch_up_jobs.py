"""When catch-up runs, as tasks of the job queue:

- every ``SYNC_CATCH_UP_EVERY`` seconds per connected link (0 turns the periodic runs
  off); a sweep every minute, fired by every consumer's scheduler, queues the links
  that are due;
- at start-up: a consumer's first sweep also takes every link not caught up within
  ``STARTUP_FRESH`` seconds, so changes made while the app was down arrive at once
  rather than at the next interval;
- after every import that succeeds (connect, reconnect, switch): the import re-read
  every customer up to its start, so the catch-up that follows covers the changes
  made while it ran whose webhooks were lost, and applies the events held while
  Stripe was disconnected. It runs after the import rather than at the reconnect:
  before, it would spend requests on events the import supersedes, and flag a gap
  longer than Stripe's 30 days of events that the import is about to close;
- sooner (every ``SILENT_EVERY`` seconds) while the health check sees our endpoint
  silent while Stripe has events (``webhook_health.endpoint_silent``).

Each run claims the business's state row first (``CatchUpState.claim``), so one
business has one catch-up at a time across processes; a task that finds it taken
does nothing (the running one covers it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from huey import crontab

from models.catch_up_state import CatchUpState
from models.user import utcnow
from models.webhook_event import WebhookEvent
from sync import jobs
from sync.catch_up import CatchUpError, catch_up_unless_running
from sync.jobs import huey
from sync.webhook_health import endpoint_silent

log = logging.getLogger(__name__)

DEFAULTS = {"SYNC_CATCH_UP_EVERY": 300}  # seconds between catch-ups of a link; 0: off
STARTUP_FRESH = 60  # at start-up, links caught up longer ago than this run at once
SILENT_EVERY = 60  # seconds between catch-ups while the endpoint looks silent

_startup = threading.Event()


def every(config: Mapping) -> float:
    """SYNC_CATCH_UP_EVERY in seconds (0: periodic catch-up is off)."""
    return float(config.get("SYNC_CATCH_UP_EVERY", DEFAULTS["SYNC_CATCH_UP_EVERY"]) or 0)


@huey.on_startup()
def _consumer_started() -> None:
    """A consumer (re)started here: its next sweep is a start-up sweep."""
    _startup.set()


@huey.task()
def run_catch_up(business_id: int, trigger: str) -> None:
    """Catch one business up, unless a catch-up of it is running already."""
    with jobs.connection(), jobs.stoppable() as stop:
        try:
            catch_up_unless_running(business_id, jobs.settings(), trigger=trigger, stop=stop)
        except CatchUpError as error:
            log.warning("Catch-up of business %s (%s) failed: %s", business_id, trigger, error)


@huey.periodic_task(crontab(minute="*"))
def catch_up_sweep() -> None:
    """Every minute, and when a consumer starts (its scheduler fires at once)."""
    startup = _startup.is_set()
    _startup.clear()
    sweep(startup=startup)


def sweep(*, startup: bool = False) -> dict[int, str]:
    """Queue a catch-up for every connected link that is due; returns business id →
    trigger ("periodic", "startup" or "silent")."""
    interval = every(jobs.settings())
    if not interval:
        return {}
    due: dict[int, str] = {}
    with jobs.connection():
        if startup:
            for business_id, _ in CatchUpState.connected_due(min(interval, STARTUP_FRESH)):
                due[business_id] = "startup"
        for business_id, _ in CatchUpState.connected_due(interval):
            due.setdefault(business_id, "periodic")
        now = utcnow()
        for business_id, last_recovered in CatchUpState.recovering_due(SILENT_EVERY):
            last = WebhookEvent.last_delivered_at(business_id)
            if business_id not in due and endpoint_silent(last_recovered, last, now):
                due[business_id] = "silent"
    for business_id, trigger in due.items():
        run_catch_up(business_id, trigger)
    return due


def after_import(business_id: int) -> None:
    """An import of the business succeeded: catch up from its start."""
    run_catch_up(business_id, "import")
