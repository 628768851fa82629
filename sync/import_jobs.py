"""The import's tasks on the job queue: run a queued import, fire an automatic retry
when it is due, and the recovery sweep that requeues runs whose worker died.

Every task is safe to run twice: each acts only through a compare-and-set on the run's
row (claim a queued run, requeue an interrupted one), so a task delivered twice, or a
sweep racing another sweep on another host, starts the work exactly once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from huey import crontab

from models.db import db_clock
from models.import_run import FAILED, QUEUED, SUCCEEDED, ImportRun
from sync import catch_up_jobs, importer, jobs
from sync.jobs import huey

log = logging.getLogger(__name__)

# Holds the due time of the one scheduled recovery check, so sweeps never pile them up.
CHECK_PENDING = "import-recovery-check-pending"
LOST_CHECK_AFTER = 60  # seconds past its due time: the check died with its worker


def start_import(business_id: int, *, config: Mapping, reason: str = "connect") -> ImportRun:
    """Queue an import for the business; returns at once. While one is queued or
    running, returns that one instead."""
    run, queued = importer.queue_import(business_id, config, reason)
    if queued:
        run_import(run.id)
    return run


def retry(run: ImportRun, config: Mapping) -> ImportRun | None:
    """The owner's "Retry import": resume a failed or interrupted run where it stopped,
    on the queue; None when there was nothing to retry (sync/importer.retry)."""
    run = importer.retry(run, config)
    if run is not None:
        run_import(run.id)
    return run


@huey.task()
def run_import(run_id: int) -> None:
    """Take the queued run and execute it; schedule its retry when one is due. A
    recovery check is armed first, so that if this worker dies mid-run another one
    resumes the run as soon as its heartbeat goes stale."""
    config = jobs.settings()
    _check_again(importer.setting(config, "IMPORT_STALE_AFTER") + 1)
    with jobs.connection(), jobs.stoppable() as stop:
        run = importer.take_and_execute(run_id, config, stop=stop)
        if run is None:
            return
        if run.status == QUEUED:  # this worker is stopping: another one carries on
            run_import(run_id)
        elif run.status == SUCCEEDED:
            catch_up_jobs.after_import(run.business_id)
        elif run.retry_at is not None:
            delay = max(0.0, (run.retry_at - db_clock()).total_seconds())
            retry_import.schedule(args=(run_id,), delay=delay)


@huey.task()
def retry_import(run_id: int) -> None:
    """An automatic retry is due: requeue the failed run (counting the attempt)."""
    with jobs.connection():
        requeued = ImportRun.requeue(run_id, from_status=FAILED, due_retry=True)
    if requeued:
        run_import(run_id)


@huey.periodic_task(crontab(minute="*"))
def recovery_sweep() -> None:
    """Every minute, on whichever worker's scheduler fires it (and at start-up)."""
    sweep()


@huey.task()
def recovery_check() -> None:
    """The sweep's own follow-up, timed for when an active run could go stale."""
    huey.get(CHECK_PENDING)  # consumed: the next sweep may schedule a new check
    sweep()


def sweep() -> list[int]:
    """Requeue runs whose worker died and retries whose timer was lost; while runs are
    active, look again when the earliest could go stale, so a run killed with its
    worker resumes within IMPORT_STALE_AFTER (plus a heartbeat), not at the next
    minute. Off when IMPORT_RESUME_ON_START is 0."""
    config = jobs.settings()
    if not importer.setting(config, "IMPORT_RESUME_ON_START"):
        return []
    with jobs.connection():
        requeued, check_in = importer.recover(config)
    for run_id in requeued:
        run_import(run_id)
    if check_in is not None:
        _check_again(check_in)
    return requeued


def _check_again(delay: float) -> None:
    """Schedule a recovery check in ``delay`` seconds unless one is pending already (a
    check taken by a worker that was then killed is overdue: replace it)."""
    pending = huey.get(CHECK_PENDING, peek=True)
    if pending is not None and pending < time.time() - LOST_CHECK_AFTER:
        huey.delete(CHECK_PENDING)
    if huey.put_if_empty(CHECK_PENDING, time.time() + delay):
        recovery_check.schedule(delay=delay)
