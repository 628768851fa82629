"""Stripe webhook events: verified, recorded once, routed to a business and applied
under the ordering rule (sync/ordering.py) through ``apply_changes``.

Each delivery is one write transaction (claim + apply + outcome): the claim is one
statement that records the event unless an earlier delivery gave it a final outcome,
so a duplicate is never applied twice, even delivered to two processes at once, and
Stripe's retries of a failed event apply it later.
Stripe is called only to settle a same-second tie, and never inside that transaction,
paced by the account's shared budget (sync/pacing.py). An event that could not be
applied (database unavailable, Stripe unreachable for a tie) is answered 503 and
replayed from its payload by tasks (``replay_event``) on our own schedule of three days
(sync/replay_schedule.py), without waiting for Stripe's own retries, which may come
hours later and end after three days.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import stripe
from peewee import DatabaseError

from models import link_history
from models.db import execute, write_transaction
from models.stripe_account import CONNECTED, DISCONNECTED, LinkFence, StaleLink, StripeAccount
from models.webhook_event import (
    APPLIED,
    FAILED,
    HELD,
    IGNORED,
    PENDING,
    SKIPPED_STALE,
    WebhookEvent,
)
from sync import jobs, replay_schedule, webhook_revocation
from sync.customers import Change, apply_changes
from sync.jobs import huey
from sync.ordering import Source, Version, fetch_version, settles
from sync.pacing import bucket_for
from sync.stripe_client import EXPAND_ONE, account_options, make_client, timed_read
from sync.webhook_input import CUSTOMER_EVENTS, DEAUTHORIZED, TAX_ID_EVENTS

REVOKED = webhook_revocation.REVOKED
LINK_CHANGED = (
    "The Stripe link changed (reconnected or switched) before this event's customer "
    "could be read again, so it was not applied to the new link."
)
HELD_REASON = (
    "Arrived while Stripe was disconnected; it is applied when Stripe is reconnected "
    "with this account."
)
# How long a tie may keep re-fetching once Stripe's clock should have passed the tied
# second (sync/ordering.py ``settles``), and the pause between tries.
TIE_DEADLINE = 5.0
TIE_RETRY = 0.25


@dataclass(frozen=True)
class Result:
    outcome: str
    status: int = 200
    duplicate: bool = False


# Routing runs for every delivery: the query of StripeAccount.connected_to (on the
# stripe_account_live index), without building a model instance each time.
_ROUTE = "SELECT business_id, generation FROM stripe_account WHERE account_id = ? AND status = ?"


# An event of an account no live link routes is held for the business whose link
# still names that account (disconnected, not switched away): the latest to link it.
_HOLDER = (
    "SELECT business_id FROM stripe_account WHERE account_id = ? AND status = ?"
    " ORDER BY connected_at DESC LIMIT 1"
)


@dataclass(frozen=True)
class Route:
    """The live link an event is routed by; work it leads to carries its fence."""

    account_id: str
    business_id: int
    generation: int

    @property
    def fence(self) -> LinkFence:
        return LinkFence(self.business_id, self.account_id, self.generation)


def _route(account: str | None) -> Route | None:
    if not account:
        return None
    row = execute(_ROUTE, (account, CONNECTED)).fetchone()
    return Route(account, row[0], row[1]) if row else None


def _holder(event: dict, live_keys: bool) -> int | None:
    """The business to hold an unroutable event for, if it is a customer change of the
    right mode from an account whose link is disconnected. A deauthorization is never
    held: applied after a reconnect, it would cut the new link."""
    if event["type"] not in (*CUSTOMER_EVENTS, *TAX_ID_EVENTS) or not event.get("account"):
        return None
    if event["livemode"] != live_keys:
        return None
    row = execute(_HOLDER, (event["account"], DISCONNECTED)).fetchone()
    return row[0] if row else None


def _disconnect(fence: LinkFence, reason: str, kind: str) -> bool:
    """Mark the link the event was routed by disconnected; False when it already was,
    or was attached again since."""
    link = StripeAccount.of_fence(fence)
    return link is not None and link.mark_disconnected(reason, kind=kind)


def _ignore_reason(event: dict, link: Route | None, live_keys: bool) -> str | None:
    if event["type"] not in (*CUSTOMER_EVENTS, *TAX_ID_EVENTS, DEAUTHORIZED):
        return f"{event['type']} is not an event this app uses."
    if not event.get("account"):
        return "The event is not from a connected account."
    if link is None:
        return f"No business is connected to Stripe account {event['account']}."
    if event["livemode"] != live_keys:
        mode = "a live-mode" if event["livemode"] else "a test-mode"
        return f"It is {mode} event but the app uses {'live' if live_keys else 'test'} keys."
    return None


def _apply(event: dict, link: Route) -> tuple[str, list[str]]:
    """Apply one routed event; returns its outcome and the customers that tied."""
    if event["type"] == DEAUTHORIZED:
        return webhook_revocation.revoke(event, link.fence), []
    if event["type"] in TAX_ID_EVENTS:
        # The event holds one tax id, not the customer's list: re-fetch the customer
        # (tax ids expanded) once Stripe's clock has passed the event, as for a tie.
        return PENDING, [event["data"]["object"]["customer"]]
    change = Change(
        event["data"]["object"],
        Version(event["created"], Source.EVENT),
        deleted=event["type"] == "customer.deleted",
    )
    result = apply_changes(link.business_id, [change], fence=link.fence)
    if result.ties:
        return PENDING, result.ties
    return (SKIPPED_STALE if result.skipped else APPLIED), []


def _fields(event: dict, payload: bytes, **fields) -> dict:
    obj = event["data"].get("object")
    customer = (
        obj.get("id")
        if event["type"] in CUSTOMER_EVENTS
        else obj.get("customer")
        if event["type"] in TAX_ID_EVENTS
        else None
    )
    return {
        "event_id": event["id"],
        "type": event["type"],
        "account_id": event.get("account"),
        "livemode": event["livemode"],
        "created": event["created"],
        "stripe_customer_id": customer,
        "payload": payload.decode(),
        "business": None,
        "error": None,
        **fields,
    }


def _record(event: dict, payload: bytes, **fields) -> None:
    WebhookEvent.record(_fields(event, payload, **fields))


UNAVAILABLE = "The database was unavailable."


@huey.task()
def replay_event(event: dict, payload: bytes, attempt: int = 1) -> None:
    """Our replay number ``attempt`` of an event that failed, from its own payload.
    A failure schedules the next one (sync/replay_schedule.py); a duplicate of it that
    succeeded meanwhile makes this a no-op (its outcome is final)."""
    with jobs.connection():
        result = receive(event, payload, jobs.settings(), replaying=True)
        if result.status == 200:
            replay_schedule.after_success(event["id"])
            return
        following = replay_schedule.after_failure(
            _fields(event, payload, error=UNAVAILABLE), attempt
        )
    if following is not None:
        number, delay = following
        replay_event.schedule(args=(event, payload, number), delay=delay)


def receive(
    event: dict,
    payload: bytes,
    config: Mapping,
    *,
    replaying: bool = False,
    recovered: bool = False,
) -> Result:
    """Record and apply one verified event. 503 when it could not be applied now (it is
    replayed from the queue, and Stripe retries too); a duplicate of an event with a
    final outcome is answered 200 as is. ``recovered``: catch-up found it in Stripe's
    events list (the webhook never brought it)."""
    live_keys = config["STRIPE_SECRET_KEY"].startswith(("sk_live_", "rk_live_"))
    try:
        with write_transaction():
            fields = _fields(event, payload, outcome=PENDING, recovered=recovered)
            if not WebhookEvent.claim(fields):
                return Result(WebhookEvent.outcome_of(event["id"]), duplicate=True)
            link = _route(event.get("account"))
            reason = _ignore_reason(event, link, live_keys)
            outcome, ties = (IGNORED, []) if reason else _apply(event, link)
            business = link.business_id if link else None
            holder = _holder(event, live_keys) if link is None else None
            if holder is not None:
                outcome, reason, business = HELD, HELD_REASON, holder
            WebhookEvent.set_outcome(event["id"], outcome, reason, business=business)
    except (DatabaseError, StaleLink):
        # StaleLink: the link was attached again between routing and writing (Postgres
        # reads committed rows); the replay routes the event by the link as it is now.
        return _failed(event, payload, replaying)
    if ties:
        return _settle_ties(event, payload, link, ties, config, replaying)
    if outcome == PENDING and event["type"] == DEAUTHORIZED:
        return _confirm_revocation(event, payload, link, config, replaying)
    return Result(outcome)


def _confirm_revocation(
    event: dict, payload: bytes, link: Route, config: Mapping, replaying: bool
) -> Result:
    """A revocation not clearly newer than the connection: ask Stripe (outside any
    transaction) whether it still lets us in (sync/webhook_revocation.py)."""
    try:
        outcome, reason = webhook_revocation.confirm(event, link.fence, config)
    except (stripe.StripeError, TimeoutError) as exc:
        error = f"Could not reach Stripe to confirm the revocation: {exc}"
        WebhookEvent.set_outcome(event["id"], FAILED, error)
        return _failed(event, payload, replaying)
    except DatabaseError:
        return _failed(event, payload, replaying)
    WebhookEvent.set_outcome(event["id"], outcome, reason)
    return Result(outcome)


def _failed(event: dict, payload: bytes, replaying: bool) -> Result:
    """Answer 503 at once and start our replays (unless this is one, which schedules
    the next itself, or a schedule of this event is already under way)."""
    if not replaying and replay_schedule.begin(_fields(event, payload, error=UNAVAILABLE)):
        replay_event.schedule(args=(event, payload, 1), delay=replay_schedule.DELAYS[0])
    return Result(FAILED, status=503)


def _settle_ties(
    event: dict, payload: bytes, link: Route, ties: list[str], config: Mapping, replaying: bool
) -> Result:
    """Fetch each tied customer once Stripe's clock has left the tied second, and apply
    what Stripe says now. Runs outside any transaction: Stripe may be slow."""
    client = make_client(config)
    budget = bucket_for(config, account=link.account_id, livemode=event["livemode"])
    changes = []
    try:
        for stripe_id in ties:
            obj, second = _fetch_after(client, budget, stripe_id, link.account_id, event["created"])
            deleted = bool(obj["deleted"]) if "deleted" in obj else False
            changes.append(Change(obj.to_dict(), fetch_version(second), deleted))
    except (stripe.PermissionError, stripe.AuthenticationError) as exc:
        _disconnect(
            link.fence, f"Stripe refused access: {exc.user_message or exc}", link_history.REFUSED
        )
        reason = "Stripe refused access; the link is now disconnected."
        WebhookEvent.set_outcome(event["id"], IGNORED, reason)
        return Result(IGNORED)
    except (stripe.StripeError, TimeoutError) as exc:
        error = f"Could not reach Stripe to settle a same-second tie: {exc}"
        WebhookEvent.set_outcome(event["id"], FAILED, error)
        return _failed(event, payload, replaying)
    try:
        with write_transaction():
            apply_changes(link.business_id, changes, fence=link.fence)
            WebhookEvent.set_outcome(event["id"], APPLIED, refetched=True)
    except StaleLink:
        WebhookEvent.set_outcome(event["id"], IGNORED, LINK_CHANGED)
        return Result(IGNORED)
    except DatabaseError:
        return _failed(event, payload, replaying)
    return Result(APPLIED)


def _fetch_after(client: stripe.StripeClient, budget, stripe_id: str, account: str, tied: int):
    """Retrieve the customer by a read certain to come after the tied second ended, so
    it reflects every change made in that second; returns it and its read second.

    Stripe's ``Date`` is whole seconds and the read may precede it by the request's
    time (sync/stripe_client.py ``read_second``), so only an answer dated about two
    seconds after the tied second began proves that: wait that long by our own clock
    (a hint; Stripe's answer decides) rather than spend requests that cannot settle."""
    early = tied + 2 - time.time()
    if early > 0:
        time.sleep(min(early, 2.0))
    deadline = time.monotonic() + TIE_DEADLINE
    while True:
        budget.acquire()
        obj, second = timed_read(
            lambda: client.v1.customers.retrieve(
                stripe_id, {"expand": list(EXPAND_ONE)}, options=account_options(account)
            )
        )
        if settles(second, tied):
            return obj, second
        if time.monotonic() > deadline:
            raise TimeoutError(f"Stripe's clock did not pass second {tied}")
        time.sleep(TIE_RETRY)
