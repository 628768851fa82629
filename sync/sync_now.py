"""The life cycle of sync checks ("Sync now" and "Check every customer"): start one or
join the running one (one per business, enforced by the database), execute a claimed
check, resume the ones a dead worker left behind, and find the reconciliations due.

Nothing here starts threads of its own for background work: the tasks in
sync/sync_jobs.py run these functions on the job queue, and ``flask sync-now`` runs
them in the foreground. Checks reuse the import's run machinery (models/sync_check.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta

import stripe
from peewee import IntegrityError

from models.catch_up_state import CatchUpState
from models.db import db_clock, write_transaction
from models.import_run import FAILED, INTERRUPTED, QUEUED, SUCCEEDED, ClaimLost, ImportRun
from models.stripe_account import CONNECTED, StaleLink, StripeAccount
from models.sync_check import RECONCILE, SyncCheck
from sync import importer
from sync.check_catch_up import CheckFailed, run_catch_up
from sync.import_fence import link_changed
from sync.import_pass import HEARTBEAT_EVERY
from sync.pacing import Exhausted, Stopped, bucket_for
from sync.reconcile import ReconcilePass, estimate
from sync.stripe_client import make_client

log = logging.getLogger(__name__)

DEFAULTS = {
    # Seconds between scheduled reconciliations of each connected link (30 days).
    "SYNC_RECONCILE_EVERY": 30 * 24 * 3600,
}
NOT_CONNECTED = "Stripe is disconnected, so there is nothing to sync. Reconnect Stripe first."
NEVER_CONNECTED = "Stripe is not connected yet: connect it and your customers sync by themselves."
IMPORTING = "An import is running: it reads every customer already."
LINK_CHANGED = (
    "Stripe was reconnected or switched meanwhile, so this check stopped; start a new one."
)


class CannotSync(Exception):
    """A check cannot start now; the message says why, for the owner."""


def reconcile_every(config: Mapping) -> float:
    return float(config.get("SYNC_RECONCILE_EVERY", DEFAULTS["SYNC_RECONCILE_EVERY"]))


def _stale_after(config: Mapping) -> float:
    return importer.setting(config, "IMPORT_STALE_AFTER")


def start(business_id: int, kind: str, config: Mapping, *, reason: str) -> tuple[SyncCheck, bool]:
    """Queue a check of ``kind`` for the business, or join the one already going (an
    interrupted one is resumed rather than started again). Returns the check and
    whether it is newly queued (and needs a task). ``CannotSync`` when Stripe is not
    connected, or for a reconciliation while an import is running."""
    link = StripeAccount.for_business(business_id)
    if link is None:
        raise CannotSync(NEVER_CONNECTED)
    if not link.is_connected:
        raise CannotSync(NOT_CONNECTED)
    SyncCheck.mark_stale_interrupted(_stale_after(config))
    active = SyncCheck.active_for(business_id)
    if active is not None:
        return active, False
    interrupted = SyncCheck.latest_for(business_id)
    if interrupted is not None and interrupted.status == INTERRUPTED:
        if interrupted.fence != link.fence:  # made for an earlier link: never resumed
            interrupted.finish(FAILED, error=LINK_CHANGED)
        elif _requeue(interrupted):
            return interrupted.refresh(), True
    if kind == RECONCILE and ImportRun.active_for(business_id) is not None:
        raise CannotSync(IMPORTING)
    cost = estimate(business_id, config, link).requests if kind == RECONCILE else None
    try:
        with write_transaction():
            now = db_clock()
            check = SyncCheck.create(
                business=business_id,
                kind=kind,
                reason=reason,
                account_id=link.account_id,
                generation=link.generation,
                status=QUEUED,
                queued_at=now,
                heartbeat_at=now,
                estimate=cost,
            )
    except IntegrityError:  # another click or process queued one between our read and insert
        return SyncCheck.active_for(business_id), False
    return check, True


def _requeue(check: SyncCheck) -> bool:
    try:
        return SyncCheck.requeue(check.id, from_status=INTERRUPTED)
    except IntegrityError:  # the business already has another check going
        return False


def take_and_execute(
    check_id: int, config: Mapping, *, stop: threading.Event | None = None, on_progress=None
) -> SyncCheck | None:
    """Claim a queued check and execute it; None when another worker has it already."""
    check = SyncCheck.get_or_none(SyncCheck.id == check_id)
    if check is None or not check.claim(from_status=QUEUED):
        return None
    return execute(check, config, stop=stop, on_progress=on_progress)


def execute(
    check: SyncCheck,
    config: Mapping,
    *,
    stop: threading.Event | None = None,
    on_progress: Callable[[SyncCheck], None] | None = None,
) -> SyncCheck:
    """Run a claimed check to its end and record how it ended; when ``stop`` is set the
    check goes back to the queue; when another worker took it over, nothing is recorded."""
    link = StripeAccount.for_business(check.business_id)
    if link is None or not link.is_connected:
        check.finish(FAILED, error=NOT_CONNECTED)
        return check
    fence = check.fence
    if fence != link.fence:
        check.finish(FAILED, error=LINK_CHANGED)
        return check
    try:
        if check.kind == RECONCILE:
            _reconcile(check, config, link, stop=stop, on_progress=on_progress)
        else:
            run_catch_up(check, config, on_progress=on_progress)
    except ClaimLost:
        log.warning("sync check %s was taken over by another worker", check.id)
    except StaleLink:
        check.finish(FAILED, error=LINK_CHANGED)
    except Stopped:
        if check.release():
            check.status = QUEUED
    except (stripe.AuthenticationError, stripe.PermissionError) as error:
        from sync.connect import record_rejection, rejection_reason

        # Fenced: ends only the link this check was for, never one attached since.
        if not record_rejection(link, error) and link_changed(fence):
            check.finish(FAILED, error=LINK_CHANGED)
        else:
            check.finish(FAILED, error=rejection_reason(error))
    except Exception as error:
        log.warning("sync check %s failed: %s", check.id, error, exc_info=True)
        check.finish(FAILED, error=_explain(error))
    else:
        check.finish(SUCCEEDED)
    return check


def _reconcile(check: SyncCheck, config: Mapping, link: StripeAccount, *, stop, on_progress):
    ReconcilePass(
        check,
        make_client(config),
        link.account_id,
        bucket_for(config, account=link.account_id, livemode=link.livemode),
        workers=int(importer.setting(config, "IMPORT_WORKERS")),
        on_page=on_progress,
        stop=stop,
        heartbeat_every=min(HEARTBEAT_EVERY, _stale_after(config) / 4),
        fence=check.fence,
    ).execute()
    fresh = check.refresh()
    for name in ("checked", "corrected", "marked_deleted", "requests", "seen"):
        setattr(check, name, getattr(fresh, name))
    # Every event before the listing began is covered now: catch-up goes on from there
    # (and a gap it could not cover is closed).
    CatchUpState.record_reconciled(check.business_id, check.account_id, fresh.stripe_started_at)


def _explain(error: Exception) -> str:
    if isinstance(error, CheckFailed):
        return str(error)
    if isinstance(error, Exhausted):
        return f"{error}."
    if isinstance(error, stripe.StripeError):
        return f"Stripe refused a request: {error.user_message or type(error).__name__}."
    return f"An unexpected error stopped the check ({type(error).__name__})."


def recover(config: Mapping) -> list[int]:
    """Requeue checks whose worker died (stale heartbeat); each by exactly one sweep."""
    SyncCheck.mark_stale_interrupted(_stale_after(config))
    interrupted = SyncCheck.select(SyncCheck.id).where(SyncCheck.status == INTERRUPTED)
    return [row.id for row in interrupted.order_by(SyncCheck.id) if _requeue(row)]


def due(config: Mapping) -> list[tuple[int, str]]:
    """(business, reason) of the reconciliations to start: "gap" when catch-up found a
    gap its events cannot cover (``CatchUpState.needs_reconcile``), "schedule" when the
    link was last checked in full (by a reconciliation, or the import that followed
    connecting) more than SYNC_RECONCILE_EVERY seconds ago; never while an import or
    another check of the business is going."""
    every = reconcile_every(config)
    horizon = db_clock() - timedelta(seconds=every)
    gaps = {
        row.business_id
        for row in CatchUpState.select(CatchUpState.business).where(CatchUpState.needs_reconcile)
    }
    found = []
    for link in StripeAccount.select().where(StripeAccount.status == CONNECTED):
        if link.business_id in gaps:
            reason = "gap"
        else:
            last = SyncCheck.last_reconciled_at(link.business_id, link.account_id)
            if every <= 0 or max(last or link.connected_at, link.connected_at) > horizon:
                continue
            reason = "schedule"
        if SyncCheck.active_for(link.business_id) or ImportRun.active_for(link.business_id):
            continue
        found.append((link.business_id, reason))
    return found


def wait_for(check: SyncCheck, *, on_progress=None, poll: float = 0.5) -> SyncCheck:
    """Follow a check another process runs until it ends (``flask sync-now`` joining)."""
    done = threading.Event()
    while True:
        check = check.refresh()
        if on_progress is not None:
            on_progress(check)
        if check.status not in ("queued", "running"):
            return check
        done.wait(poll)
