"""Sync now's catch-up as a sync check: sync/catch_up.py run for a claimed check,
its progress and result recorded on the check's row, its heartbeat kept while it
runs (it may wait for a scheduled catch-up to end, or for Stripe's rate limit)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping

from peewee import DatabaseError

from models.db import db
from models.import_run import ClaimLost
from models.sync_check import SyncCheck
from sync import importer
from sync.catch_up import CatchUpError, CatchUpProgress, catch_up
from sync.import_pass import HEARTBEAT_EVERY


def run_catch_up(check: SyncCheck, config: Mapping, *, on_progress=None) -> None:
    """Sync now: a catch-up from the account's events (sync/catch_up.py), recorded on
    the check as it goes; ``phase`` ends as "gap" when Stripe's 30 days of events
    cannot cover the time since the last catch-up (a reconciliation falls due)."""
    run = type(check)
    mine = (run.id == check.id) & (run.owner_token == check.owner_token)

    def progress(step: CatchUpProgress) -> None:
        run.update(
            phase=step.phase, seen=step.listed, checked=step.applied, requests=step.requests
        ).where(mine).execute()
        if on_progress is not None:
            on_progress(check)

    with _heartbeat(
        check, min(HEARTBEAT_EVERY, importer.setting(config, "IMPORT_STALE_AFTER") / 4)
    ):
        try:
            result = catch_up(check.business_id, config, trigger="sync-now", on_progress=progress)
        except CatchUpError as error:
            raise CheckFailed(str(error)) from error
    fields = {
        "phase": "gap" if result.gap else "done",
        "seen": result.listed,
        "recovered": result.recovered,
        "requests": result.requests,
    }
    if not run.update(fields).where(mine).execute():
        raise ClaimLost
    for name, value in fields.items():
        setattr(check, name, value)


@contextlib.contextmanager
def _heartbeat(check: SyncCheck, every: float) -> Iterator[None]:
    """Beat the check's heartbeat while a catch-up runs (it may wait for another one,
    or for Stripe's rate limit), as the import's pass does for its own work."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(every):
            try:
                with db.connection_context():
                    SyncCheck.beat(check.id, check.owner_token)
            except DatabaseError:  # a busy database: the next beat will do
                continue

    beater = threading.Thread(target=beat, name=f"sync-check-{check.id}-heartbeat")
    beater.start()
    try:
        yield
    finally:
        done.set()
        beater.join()


class CheckFailed(Exception):
    """The check could not finish; the message is for the owner."""
