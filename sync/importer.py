"""The initial import's life cycle, as decisions over the database: queue one (at
most one per business, enforced by the database), take and execute a queued run,
recover runs whose worker died, and retry runs that failed for a transient reason.

Nothing here starts threads or timers: the tasks in sync/import_jobs.py run these
functions on the job queue. The work itself is sync/import_pass.py; this module
records how each attempt ended, in words the owner can act on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta

import stripe
from peewee import IntegrityError

from models.customer import Customer
from models.db import db_clock, write_transaction
from models.import_run import (
    ACTIVE,
    FAILED,
    INTERRUPTED,
    QUEUED,
    SUCCEEDED,
    ClaimLost,
    ImportRun,
)
from models.stripe_account import StaleLink, StripeAccount
from sync.import_fence import SUPERSEDED, fence_of, link_changed, superseded
from sync.import_pass import HEARTBEAT_EVERY, Pass
from sync.pacing import Stopped, bucket_for
from sync.stripe_client import make_client

log = logging.getLogger(__name__)

DEFAULTS = {
    # Concurrent list requests. Little's law: 90 req/s x 0.15-0.3 s per Stripe list
    # request needs 14-27 in flight to use the rate limit; the token bucket, not the
    # worker count, is what keeps us under it.
    "IMPORT_WORKERS": 16,
    "IMPORT_RESUME_ON_START": True,
    "IMPORT_STALE_AFTER": 60,  # seconds without a heartbeat: the process is gone
    "IMPORT_RETRY_DELAYS": (30, 120, 480),  # automatic retries after transient failures
}
NOT_CONNECTED = "Stripe is not connected, so there is nothing to import. Connect Stripe first."
DISCONNECTED_DURING = "Stripe was disconnected, so the import stopped. Reconnect to finish it."


class ImportBusy(Exception):
    """Another process is running this business's import right now."""

    def __init__(self, run: ImportRun):
        super().__init__(f"import run {run.id} is already running (heartbeat {run.heartbeat_at})")
        self.run = run


def setting(config: Mapping, key: str):
    value = config.get(key, DEFAULTS[key])
    if key == "IMPORT_RETRY_DELAYS" and isinstance(value, str):
        return tuple(float(part) for part in value.split(",") if part.strip())
    if key == "IMPORT_RESUME_ON_START" and isinstance(value, str):
        return value.lower() in {"1", "true", "yes"}
    return value if key in {"IMPORT_RETRY_DELAYS", "IMPORT_RESUME_ON_START"} else float(value)


def queue_import(business_id: int, config: Mapping, reason: str) -> tuple[ImportRun, bool]:
    """Queue an import for the business's current link; while one is queued or running
    for that same link, that one instead. Returns the run and whether it is newly
    queued (and needs a task). An active run of an earlier link (a switch or
    reconnect came quickly after it started) is superseded, never joined: it would
    import the old account's plan under the new one."""
    ImportRun.mark_stale_interrupted(setting(config, "IMPORT_STALE_AFTER"))
    try:
        with write_transaction():
            fence = StripeAccount.fence_for(business_id)
            active = ImportRun.active_for(business_id)
            if active is not None and (active.fence is None or active.fence == fence):
                return active, False
            _supersede(business_id)
            now = db_clock()
            run = ImportRun.create(
                business=business_id,
                reason=reason,
                status=QUEUED,
                queued_at=now,
                heartbeat_at=now,
                account_id=fence.account_id if fence else None,
                generation=fence.generation if fence else None,
            )
    except IntegrityError:  # another process queued one between our read and insert
        return ImportRun.active_for(business_id), False
    return run, True


def _supersede(business_id: int) -> None:
    """A new run covers everything an interrupted, retry-pending or (for an earlier
    link) still active one would have. A superseded run is no longer held (its token is
    cleared, models/import_run.py ``HELD``): its holder, if it was merely slow, writes
    nothing more and never records it as succeeded."""
    mine = ImportRun.business == business_id
    ImportRun.update(
        status=FAILED, last_error=SUPERSEDED, finished_at=db_clock(), owner_token=None
    ).where(mine & ImportRun.status.in_((INTERRUPTED, *ACTIVE))).execute()
    ImportRun.update(retry_at=None).where(mine & ImportRun.retry_at.is_null(False)).execute()


def take_and_execute(
    run_id: int, config: Mapping, *, stop: threading.Event | None = None
) -> ImportRun | None:
    """Claim a queued run and execute it; None when another worker has it already
    (a task delivered twice runs the import once)."""
    run = ImportRun.get_or_none(ImportRun.id == run_id)
    if run is None or not run.claim(from_status=QUEUED):
        return None
    return execute(run, config, stop=stop)


def recover(config: Mapping) -> tuple[list[int], float | None]:
    """Requeue runs whose worker died (stale heartbeat, by the database's clock) and
    retries whose timer was lost; each run is requeued by exactly one sweep. Returns
    the requeued ids and, while runs are active, the seconds until the earliest of
    them could go stale (when to look again)."""
    stale_after = setting(config, "IMPORT_STALE_AFTER")
    ImportRun.mark_stale_interrupted(stale_after)
    requeued = []
    for run in ImportRun.select().where(ImportRun.status == INTERRUPTED).order_by(ImportRun.id):
        if ImportRun.latest_for(run.business_id).id != run.id:
            run.finish(FAILED, error=SUPERSEDED)
            continue
        try:
            if ImportRun.requeue(run.id, from_status=INTERRUPTED):
                log.info("resuming import run %s of business %s", run.id, run.business_id)
                requeued.append(run.id)
        except IntegrityError:  # the business already has a newer run going
            run.finish(FAILED, error=SUPERSEDED)
    for run_id in ImportRun.overdue_retries(grace=stale_after):
        if ImportRun.requeue(run_id, from_status=FAILED, due_retry=True):
            requeued.append(run_id)
    oldest = (
        ImportRun.select(ImportRun.heartbeat_at)
        .where(ImportRun.status.in_(ACTIVE))
        .order_by(ImportRun.heartbeat_at)
        .first()
    )
    if oldest is None:
        return requeued, None
    age = (db_clock() - oldest.heartbeat_at).total_seconds()
    return requeued, max(1.0, stale_after - age + 1.0)


def retry(run: ImportRun, config: Mapping) -> ImportRun | None:
    """The owner's "Retry import": requeue the business's latest run to resume where it
    stopped, if it failed or was interrupted. Anything else is left alone (a run that
    succeeded, is running, or has been followed by a newer one), so Retry never starts a
    full re-import and two clicks make one run. Returns the run requeued (it needs a
    task), or None."""
    ImportRun.mark_stale_interrupted(setting(config, "IMPORT_STALE_AFTER"))
    run = run.refresh()
    if ImportRun.latest_for(run.business_id).id != run.id:
        return None
    try:
        if ImportRun.requeue(run.id, from_status=(FAILED, INTERRUPTED), restart_attempts=True):
            return run.refresh()
    except IntegrityError:  # another run of the business became active meanwhile
        pass
    return None


def run_in_foreground(
    business_id: int, config: Mapping, *, on_page: Callable[[ImportRun], None] | None = None
) -> ImportRun:
    """For operators (``flask import-customers``): resume this business's interrupted
    or failed run, or start a new one, in this thread."""
    ImportRun.mark_stale_interrupted(setting(config, "IMPORT_STALE_AFTER"))
    latest = ImportRun.latest_for(business_id)
    if latest is not None and latest.is_active:
        raise ImportBusy(latest)
    fence = StripeAccount.fence_for(business_id)
    resumable = latest is not None and latest.status in (INTERRUPTED, FAILED) and latest.position
    resumable = resumable and latest.fence in (None, fence)
    if resumable and latest.claim(from_status=latest.status):
        return execute(latest, config, on_page=on_page)
    run = ImportRun.create(
        business=business_id,
        reason="cli",
        status=QUEUED,
        account_id=fence.account_id if fence else None,
        generation=fence.generation if fence else None,
    )
    if not run.claim(from_status=QUEUED):
        raise ImportBusy(run.refresh())
    return execute(run, config, on_page=on_page)


def execute(
    run: ImportRun, config: Mapping, *, on_page=None, stop: threading.Event | None = None
) -> ImportRun:
    """Run a claimed run to its end and record how it ended. When ``stop`` is set (the
    worker is shutting down) the run goes back to the queue, status queued; when
    another worker took it over, nothing is recorded."""
    link = StripeAccount.for_business(run.business_id)
    if link is None or not link.is_connected:
        run.finish(FAILED, error=NOT_CONNECTED)
        return run
    fence = fence_of(run, link)
    if fence != link.fence:
        return superseded(run, config)
    import_pass = Pass(
        run,
        make_client(config),
        link.account_id,
        bucket_for(config, account=link.account_id, livemode=link.livemode),
        workers=int(setting(config, "IMPORT_WORKERS")),
        on_page=on_page,
        stop=stop,
        heartbeat_every=min(HEARTBEAT_EVERY, setting(config, "IMPORT_STALE_AFTER") / 4),
        fence=fence,
    )
    try:
        import_pass.execute()
    except ClaimLost:
        log.warning("import run %s was taken over by another worker", run.id)
    except StaleLink:
        if link_changed(fence):
            return superseded(run, config)
        run.finish(FAILED, error=DISCONNECTED_DURING)
    except Stopped:
        if run.release():
            run.status = QUEUED
    except (stripe.AuthenticationError, stripe.PermissionError) as error:
        from sync.connect import record_rejection, rejection_reason

        # Fenced: ends only the link this run was for, never one attached since.
        if not record_rejection(link, error) and link_changed(fence):
            return superseded(run, config)
        run.finish(FAILED, error=rejection_reason(error))
    except Exception as error:
        log.warning("import run %s failed: %s", run.id, error, exc_info=True)
        _fail_and_retry(run, _explain(error), config)
    else:
        total = (
            Customer.for_business(run.business_id).where(Customer.sync_condition("synced")).count()
        )
        if not run.finish(SUCCEEDED, total=total):  # superseded or taken over at the end
            log.warning("import run %s was taken over before it could finish", run.id)
    return run


def _explain(error: Exception) -> str:
    from sync.pacing import Exhausted

    if isinstance(error, Exhausted):
        return f"{error}."
    if isinstance(error, stripe.StripeError):
        return f"Stripe refused a request: {error.user_message or type(error).__name__}."
    return f"An unexpected error stopped the import ({type(error).__name__})."


def _fail_and_retry(run: ImportRun, message: str, config: Mapping) -> None:
    """Fail this attempt; set when the next one is due while automatic retries remain
    (sync/import_jobs.py schedules it)."""
    delays = setting(config, "IMPORT_RETRY_DELAYS")
    retry_at = None
    if run.attempts <= len(delays):
        retry_at = db_clock() + timedelta(seconds=float(delays[run.attempts - 1]))
    run.finish(FAILED, error=message, retry_at=retry_at)
