"""The initial import's life cycle: start one (at most one per business, enforced by
the database), run it in a background thread, resume runs whose process died, and
retry runs that failed for a transient reason.

The work itself is sync/import_pass.py; this module decides when it runs and records
how it ended, in words the owner can act on.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta

import stripe
from peewee import IntegrityError

from models.customer import Customer
from models.db import db, write_transaction
from models.import_run import ACTIVE, FAILED, INTERRUPTED, QUEUED, SUCCEEDED, ImportRun
from models.stripe_account import StripeAccount
from models.user import utcnow
from sync.import_pass import Pass
from sync.pacing import bucket_for
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
SUPERSEDED = "Replaced by a newer import."


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


@contextlib.contextmanager
def _connection() -> Iterator[None]:
    """A connection for this thread; closed afterwards only if we opened it."""
    opened = db.is_closed()
    if opened:
        db.connect()
    try:
        yield
    finally:
        if opened and not db.is_closed():
            db.close()


def start_import(business_id: int, *, config: Mapping, reason: str = "connect") -> ImportRun:
    """Queue an import for the business and run it in a background thread; returns at
    once. While one is queued or running, returns that one instead."""
    with _connection():
        ImportRun.mark_stale_interrupted(setting(config, "IMPORT_STALE_AFTER"))
        try:
            with write_transaction():
                active = ImportRun.active_for(business_id)
                if active is not None:
                    return active
                _supersede(business_id)
                run = ImportRun.create(business=business_id, reason=reason, status=QUEUED)
        except IntegrityError:  # another process queued one between our read and insert
            return ImportRun.active_for(business_id)
    _launch(run.id, config, claim_from=QUEUED)
    return run


def _supersede(business_id: int) -> None:
    """A new run covers everything an interrupted or retry-pending one would have."""
    mine = ImportRun.business == business_id
    ImportRun.update(status=FAILED, last_error=SUPERSEDED, finished_at=utcnow()).where(
        mine & (ImportRun.status == INTERRUPTED)
    ).execute()
    ImportRun.update(retry_at=None).where(mine & ImportRun.retry_at.is_null(False)).execute()


def resume_interrupted(config: Mapping) -> list[ImportRun]:
    """At start-up: resume runs whose process died (stale heartbeat), each in exactly
    one process, and re-arm retries that were scheduled before a restart."""
    ImportRun.mark_stale_interrupted(setting(config, "IMPORT_STALE_AFTER"))
    resumed = []
    for run in ImportRun.select().where(ImportRun.status == INTERRUPTED).order_by(ImportRun.id):
        if ImportRun.latest_for(run.business_id).id != run.id:
            run.finish(FAILED, error=SUPERSEDED)
            continue
        try:
            claimed = run.claim(from_status=INTERRUPTED)
        except IntegrityError:  # the business already has a newer run going
            run.finish(FAILED, error=SUPERSEDED)
            continue
        if claimed:
            log.info("resuming import run %s of business %s", run.id, run.business_id)
            _launch(run.id, config, claim_from=None)
            resumed.append(run)
    for run in ImportRun.select().where(ImportRun.retry_at.is_null(False)):
        _schedule_retry(run, config)
    if ImportRun.select().where(ImportRun.status.in_(ACTIVE)).exists():
        # A run whose process was killed moments ago still looks alive (a gunicorn
        # worker restart): look again once its heartbeat would have gone stale.
        _later(setting(config, "IMPORT_STALE_AFTER") + 1, lambda: resume_interrupted(config))
    return resumed


def retry(run: ImportRun, config: Mapping) -> ImportRun | None:
    """The owner's "Retry import": resume the business's latest run where it stopped,
    if it failed or was interrupted. Anything else is left alone (a run that succeeded,
    is running, or has been followed by a newer one), so Retry never starts a full
    re-import and two clicks make one run. Returns the run resumed, or None."""
    ImportRun.mark_stale_interrupted(setting(config, "IMPORT_STALE_AFTER"))
    run = run.refresh()
    latest = ImportRun.latest_for(run.business_id)
    if latest.id != run.id or run.status not in (FAILED, INTERRUPTED):
        return None
    try:
        if not run.claim(from_status=(FAILED, INTERRUPTED)):
            return None  # the other click won
    except IntegrityError:  # another run of the business became active meanwhile
        return None
    ImportRun.update(attempts=1).where(ImportRun.id == run.id).execute()
    _launch(run.id, config, claim_from=None)
    return run.refresh()


def run_in_foreground(
    business_id: int, config: Mapping, *, on_page: Callable[[ImportRun], None] | None = None
) -> ImportRun:
    """For operators (``flask import-customers``): resume this business's interrupted
    or failed run, or start a new one, in this thread."""
    ImportRun.mark_stale_interrupted(setting(config, "IMPORT_STALE_AFTER"))
    latest = ImportRun.latest_for(business_id)
    if latest is not None and latest.is_active:
        raise ImportBusy(latest)
    resumable = latest is not None and latest.status in (INTERRUPTED, FAILED) and latest.position
    if resumable and latest.claim(from_status=latest.status):
        return execute(latest, config, on_page=on_page)
    run = ImportRun.create(business=business_id, reason="cli", status=QUEUED)
    if not run.claim(from_status=QUEUED):
        raise ImportBusy(run.refresh())
    return execute(run, config, on_page=on_page)


def _launch(run_id: int, config: Mapping, *, claim_from: str | None) -> None:
    database = db.database
    config = dict(config)

    def main() -> None:
        if db.database != database:  # the app was re-pointed (tests): not our run any more
            return
        with _connection():
            run = ImportRun.get_or_none(ImportRun.id == run_id)
            if run is None or (claim_from and not run.claim(from_status=claim_from)):
                return
            execute(run, config)

    threading.Thread(target=main, name=f"import-run-{run_id}", daemon=True).start()


def execute(run: ImportRun, config: Mapping, *, on_page=None) -> ImportRun:
    """Run a claimed run to its end and record how it ended."""
    link = StripeAccount.for_business(run.business_id)
    if link is None or not link.is_connected:
        run.finish(FAILED, error=NOT_CONNECTED)
        return run
    import_pass = Pass(
        run,
        make_client(config),
        link.account_id,
        bucket_for(config, livemode=link.livemode),
        workers=int(setting(config, "IMPORT_WORKERS")),
        on_page=on_page,
    )
    try:
        import_pass.execute()
    except (stripe.AuthenticationError, stripe.PermissionError) as error:
        from sync.connect import record_rejection, rejection_reason

        record_rejection(link, error)
        run.finish(FAILED, error=rejection_reason(error))
    except Exception as error:
        log.warning("import run %s failed: %s", run.id, error, exc_info=True)
        _fail_and_retry(run, _explain(error), config)
    else:
        total = (
            Customer.for_business(run.business_id).where(Customer.sync_condition("synced")).count()
        )
        ImportRun.update(total=total).where(ImportRun.id == run.id).execute()
        run.total = total
        run.finish(SUCCEEDED)
    return run


def _explain(error: Exception) -> str:
    from sync.pacing import Exhausted

    if isinstance(error, Exhausted):
        return f"{error}."
    if isinstance(error, stripe.StripeError):
        return f"Stripe refused a request: {error.user_message or type(error).__name__}."
    return f"An unexpected error stopped the import ({type(error).__name__})."


def _fail_and_retry(run: ImportRun, message: str, config: Mapping) -> None:
    """Fail this attempt; schedule the next one while automatic retries remain."""
    delays = setting(config, "IMPORT_RETRY_DELAYS")
    retry_at = None
    if run.attempts <= len(delays):
        retry_at = utcnow() + timedelta(seconds=float(delays[run.attempts - 1]))
    run.finish(FAILED, error=message, retry_at=retry_at)
    if retry_at is not None:
        _schedule_retry(run, config)


def _schedule_retry(run: ImportRun, config: Mapping) -> None:
    config, run_id = dict(config), run.id

    def fire() -> None:
        run = ImportRun.get_or_none(ImportRun.id == run_id)
        if run is None or run.retry_at is None:
            return
        try:
            claimed = run.claim(from_status=FAILED)
        except IntegrityError:
            return
        if claimed:
            ImportRun.update(attempts=ImportRun.attempts + 1).where(
                ImportRun.id == run_id
            ).execute()
            execute(run.refresh(), config)

    _later(max(0.0, (run.retry_at - utcnow()).total_seconds()), fire)


def _later(delay: float, job: Callable[[], object]) -> None:
    """Run ``job`` after ``delay`` seconds on its own thread and connection, unless the
    database was re-pointed meanwhile (tests: then it is not ours any more)."""
    database = db.database

    def fire() -> None:
        if db.database == database:
            with _connection():
                job()

    timer = threading.Timer(delay, fire)
    timer.daemon = True
    timer.start()
