"""Sync checks on the job queue: run a queued check, and a periodic pass that resumes
checks whose worker died and starts the reconciliations that are due.

Like the import's tasks (sync/import_jobs.py), each acts only through a compare-and-set
on the check's row, so a task delivered twice, or the pass firing on two hosts, runs a
check once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from huey import crontab

from models.import_run import QUEUED, SUCCEEDED
from models.sync_check import CATCH_UP, RECONCILE, SyncCheck
from sync import jobs, sync_now
from sync.jobs import huey

log = logging.getLogger(__name__)


def start_check(
    business_id: int, kind: str, *, config: Mapping, reason: str
) -> tuple[SyncCheck, bool]:
    """Start a check of ``kind`` on the queue, or join the one going; returns it and
    whether it was joined. ``sync_now.CannotSync`` says why one cannot start."""
    check, queued = sync_now.start(business_id, kind, config, reason=reason)
    if queued:
        run_check(check.id)
    return check, not queued


@huey.task()
def run_check(check_id: int) -> None:
    """Take the queued check and execute it; a stopping worker puts it back."""
    config = jobs.settings()
    with jobs.connection(), jobs.stoppable() as stop:
        check = sync_now.take_and_execute(check_id, config, stop=stop)
        if check is not None:
            follow_up(check, config)
    if check is not None and check.status == QUEUED:
        run_check(check_id)


def follow_up(check: SyncCheck, config: Mapping) -> None:
    """A catch-up that found a gap its events cannot cover starts a reconciliation at
    once (the minute sweep would, a little later: ``sync_now.due``)."""
    if check.kind != CATCH_UP or check.phase != "gap" or check.status != SUCCEEDED:
        return
    try:
        start_check(check.business_id, RECONCILE, config=config, reason="gap")
    except sync_now.CannotSync as reason:
        log.info("reconciliation of business %s after a gap: %s", check.business_id, reason)


@huey.periodic_task(crontab(minute="*"))
def checks_sweep() -> None:
    """Every minute: resume checks whose worker died, start the reconciliations due."""
    sweep()


def sweep() -> tuple[list[int], list[int]]:
    """Returns the checks requeued and the businesses whose reconciliation started."""
    config = jobs.settings()
    with jobs.connection():
        requeued = sync_now.recover(config)
        due = sync_now.due(config)
        started = []
        for check_id in requeued:
            run_check(check_id)
        for business_id, reason in due:
            try:
                start_check(business_id, RECONCILE, config=config, reason=reason)
            except sync_now.CannotSync as reason:
                log.info("scheduled reconciliation of business %s: %s", business_id, reason)
                continue
            started.append(business_id)
    return requeued, started
