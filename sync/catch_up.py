"""Catch-up from Stripe's events: what the webhook missed, read back from Stripe.

Stripe keeps 30 days of events, listable per connected account. A catch-up lists the
account's customer and deauthorization events created since its high-water mark
(less ``SAFETY_OVERLAP``: an event may become listable a little after its ``created``
second), oldest applied first, each through exactly the path a webhook delivery takes
(``sync.webhooks.receive``: recorded once by its id, routed by the live link, applied
under the ordering rule). An event that already has a final outcome is not applied
again, and events held while Stripe was disconnected are applied once the link is
back. Then the mark moves up.

Cost: one list request per 100 events (``limit=100`` with cursors), paced by the
account's budget and retried through rate limits. When the mark is older than the
events Stripe still keeps — or there is neither a mark nor a completed import —
catch-up cannot cover the gap: it says so (``gap``), and ``needs_reconcile`` asks for
a full comparison, which clears it (``CatchUpState.record_reconciled``).
"""

from __future__ import annotations

import calendar
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping

import stripe

from models.catch_up_state import CatchUpState
from models.db import db_now
from models.import_run import ImportRun
from models.stripe_account import StripeAccount
from models.webhook_event import APPLIED, WebhookEvent
from sync import webhooks
from sync.catch_up_listing import Listing, list_events
from sync.catch_up_result import CatchUpProgress, CatchUpResult
from sync.connect import record_rejection
from sync.pacing import Exhausted, Stopped
from sync.webhook_input import DEAUTHORIZED, InvalidEvent, parse

__all__ = [
    "CatchUpBusy",
    "CatchUpError",
    "CatchUpProgress",
    "CatchUpResult",
    "NotConnected",
    "catch_up",
    "catch_up_unless_running",
]

log = logging.getLogger(__name__)

SAFETY_OVERLAP = 60  # seconds re-listed below the mark
RETENTION = 30 * 24 * 3600  # Stripe keeps events this long
# A run listing from the edge of retention starts this far inside it, so the oldest
# event of a page cannot expire before the next page's cursor names it.
EXPIRY_MARGIN = 300
CLAIM_WAIT = 60.0  # seconds a synchronous caller waits for a running catch-up to end
BEAT_EVERY = 200  # events applied between heartbeats
# Runs that list only what Stripe could not deliver (``delivery_success=false``): the
# frequent ones, where a delivered event was applied before it was answered 2xx. Every
# other run (at start-up, after an import, Sync now) lists every event since the mark,
# so changes a crash took back after they were acknowledged (SQLite's WAL with
# synchronous=NORMAL may lose the last commits on power loss) are recovered too.
UNDELIVERED_ONLY = ("periodic", "silent")
UNEXPECTED = "Catch-up stopped on an unexpected error; it tries again at its next run."
SWITCHED_AWAY = "Held while Stripe was disconnected; the business then switched accounts."


class CatchUpError(Exception):
    """Catch-up could not run or finish; the message is for the owner."""


class NotConnected(CatchUpError):
    """There is no connected Stripe account to catch up from."""


class CatchUpBusy(CatchUpError):
    """Another catch-up of the business kept running past ``CLAIM_WAIT``."""


Progress = Callable[[CatchUpProgress], None] | None


def catch_up(
    business_id: int, config: Mapping, *, trigger: str, on_progress: Progress = None
) -> CatchUpResult:
    """Catch the business up from its account's events, in the caller's thread. While
    another catch-up of the business runs, wait for it (up to ``CLAIM_WAIT``), then run:
    the answer is current as of this call. Raises ``NotConnected``, ``CatchUpBusy`` or
    ``CatchUpError`` with a message for the owner."""
    deadline = time.monotonic() + CLAIM_WAIT
    while (token := CatchUpState.claim(business_id)) is None:
        if time.monotonic() > deadline:
            raise CatchUpBusy("Another catch-up is still running; try again in a minute.")
        time.sleep(0.2)
    return _run(business_id, token, config, trigger, on_progress)


def catch_up_unless_running(
    business_id: int, config: Mapping, *, trigger: str, stop: threading.Event | None = None
):
    """For background jobs: the result, or None when another run holds the business
    (that run covers whatever this one would have). ``stop``: the worker is shutting
    down; the run ends without moving the mark."""
    token = CatchUpState.claim(business_id)
    if token is None:
        return None
    return _run(business_id, token, config, trigger, None, stop)


def _run(
    business_id: int,
    token: str,
    config: Mapping,
    trigger: str,
    on_progress: Progress,
    stop: threading.Event | None = None,
):
    link = StripeAccount.for_business(business_id)
    if link is None or not link.is_connected:
        CatchUpState.finish(business_id, token)
        raise NotConnected("Stripe is not connected: reconnect it to catch up.")
    state = CatchUpState.for_business(business_id)
    try:
        undelivered_only = trigger in UNDELIVERED_ONLY
        result = _catch_up(link, state, token, config, on_progress, stop, undelivered_only)
    except CatchUpError as error:
        CatchUpState.finish(
            business_id, token, last_run_at=db_now(), last_trigger=trigger, last_error=str(error)
        )
        raise
    except Exception:
        # Release the claim at once: the next run must not wait for it to go stale.
        CatchUpState.finish(
            business_id, token, last_run_at=db_now(), last_trigger=trigger, last_error=UNEXPECTED
        )
        raise
    CatchUpState.finish(
        business_id,
        token,
        account_id=link.account_id,
        mark=result.mark,
        last_run_at=db_now(),
        last_trigger=trigger,
        last_listed=result.listed,
        last_recovered=result.recovered,
        total_recovered=CatchUpState.total_recovered + result.recovered,
        last_requests=result.requests,
        needs_reconcile=state.needs_reconcile,
        gap_found_second=state.gap_found_second,
        last_error=None,
    )
    log.info(
        "Catch-up of business %s (%s, %s): listed %s, recovered %s, %s requests%s",
        business_id,
        link.account_id,
        trigger,
        result.listed,
        result.recovered,
        result.requests,
        ", gap" if result.gap else "",
    )
    return result


def _catch_up(
    link,
    state: CatchUpState,
    token: str,
    config: Mapping,
    on_progress: Progress,
    stop: threading.Event | None,
    undelivered_only: bool,
):
    business_id = link.business_id
    mark = state.mark if state.account_id == link.account_id else None
    imported = ImportRun.completed_start(business_id, link.connected_at)
    base = max((s for s in (mark, imported) if s is not None), default=None)
    if base is None and ImportRun.active_for(business_id) is not None:
        # The first import covers everything up to its start; catch-up follows it.
        return CatchUpResult(waiting_for_import=True, mark=mark)
    now = int(time.time())
    floor = now - RETENTION
    gap = base is None or base < floor
    _update_gap(state, gap, imported, floor)
    since = max(base - SAFETY_OVERLAP, floor + EXPIRY_MARGIN) if not gap else floor + EXPIRY_MARGIN

    def beat() -> None:
        if not CatchUpState.beat(business_id, token):
            raise CatchUpError("This catch-up was taken over by another worker.")

    def progress(phase: str, listed: int, applied: int, requests: int) -> None:
        if on_progress is not None:
            on_progress(CatchUpProgress(phase, listed, applied, requests))

    try:
        listing = list_events(
            link,
            since,
            config,
            beat=beat,
            progress=progress,
            stop=stop,
            undelivered_only=undelivered_only,
        )
    except (stripe.PermissionError, stripe.AuthenticationError) as error:
        record_rejection(link, error)
        raise NotConnected("Stripe refused access to the account; reconnect Stripe.") from error
    except Stopped as error:
        raise CatchUpError("The worker stopped; catch-up runs again at start-up.") from error
    except Exhausted as error:
        raise CatchUpError(
            "Stripe kept refusing the events list for now (rate limits or errors); catch-up "
            "tries again at its next run."
        ) from error
    except stripe.StripeError as error:
        message = error.user_message or str(error)
        raise CatchUpError(f"Stripe refused the events list: {message}.") from error
    result = _apply_all(link, listing, config, beat, progress)
    result.gap = gap
    result.mark = _new_mark(mark, listing, result)
    return result


def _update_gap(state: CatchUpState, gap: bool, imported: int | None, floor: int) -> None:
    """Flag a gap (sticky until reconciled), remembering the oldest second Stripe still
    kept then: changes before it may be lost. An import that began after that second
    re-read every customer, which closes the gap."""
    if state.needs_reconcile and imported is not None and imported >= (state.gap_found_second or 0):
        state.needs_reconcile, state.gap_found_second = False, None
    if gap and not state.needs_reconcile:
        state.needs_reconcile, state.gap_found_second = True, floor


def _apply_all(link, listing: Listing, config: Mapping, beat, progress) -> CatchUpResult:
    """Apply every listed event not yet final, and every event held for the account
    while it was disconnected, oldest first."""
    result = CatchUpResult(listed=len(listing.events), requests=listing.requests)
    WebhookEvent.retire_held(link.business_id, link.account_id, SWITCHED_AWAY)
    queue = {event["id"]: event for event in listing.events}
    for row in WebhookEvent.held_for(link.business_id, link.account_id):
        queue.setdefault(row.event_id, json.loads(row.payload))
    final = WebhookEvent.final_among(list(queue))
    linked_second = calendar.timegm(link.connected_at.timetuple()) if link.connected_at else 0
    ordered = sorted(queue.values(), key=lambda event: event["created"])
    for done, event in enumerate(ordered, 1):
        if event["id"] in final:
            result.already_recorded += 1
        elif event["type"] == DEAUTHORIZED and event["created"] < linked_second:
            # From an earlier connection of the account: the link was made after it.
            result.unchanged += 1
        else:
            _apply_one(event, config, result)
        if done % BEAT_EVERY == 0:
            beat()
            progress("applying", result.listed, done, result.requests)
    progress("applying", result.listed, len(ordered), result.requests)
    return result


def _apply_one(event: dict, config: Mapping, result: CatchUpResult) -> None:
    payload = json.dumps(event, separators=(",", ":")).encode()
    try:
        parse(payload)  # the checks every delivery passes before anything is stored
    except InvalidEvent as error:
        log.warning("Catch-up skipped event %s: %s", event["id"], error)
        result.invalid += 1
        return
    outcome = webhooks.receive(event, payload, config, recovered=True)
    if outcome.duplicate:
        result.already_recorded += 1
    elif outcome.status != 200:
        result.failed += 1
        if result.oldest_failed is None or event["created"] < result.oldest_failed:
            result.oldest_failed = event["created"]
    elif outcome.outcome == APPLIED:
        result.recovered += 1
    else:
        result.unchanged += 1


def _new_mark(mark: int | None, listing: Listing, result: CatchUpResult) -> int | None:
    """Up to the newest event seen, or the second the listing began when later (so a
    quiet account's mark keeps up with time); never past an event that failed, so the
    next run lists it again."""
    seen = [s for s in (mark, listing.newest, listing.started_second) if s is not None]
    new = max(seen, default=None)
    if new is not None and result.oldest_failed is not None:
        new = min(new, result.oldest_failed)
    return new
