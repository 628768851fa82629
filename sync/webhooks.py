"""Stripe webhook events: verified, recorded once, routed to a business and applied
under the ordering rule (sync/ordering.py) through ``apply_changes``.

Each delivery is one write transaction (claim + apply + outcome): the claim is one
statement that records the event unless an earlier delivery gave it a final outcome,
so a duplicate is never applied twice, even delivered to two processes at once, and
Stripe's retries of a failed event apply it later.
Stripe is called only to settle a same-second tie, and never inside that transaction,
paced by the account's shared budget (sync/pacing.py). An event that could not be
applied (database unavailable, Stripe unreachable for a tie) is answered 503 and
replayed from its payload by a task (``replay_event``), without waiting for Stripe's
own retry, which may come hours later.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import stripe
from peewee import DatabaseError

from models import link_history
from models.db import execute, write_transaction
from models.stripe_account import CONNECTED, StripeAccount
from models.webhook_event import (
    APPLIED,
    FAILED,
    IGNORED,
    PENDING,
    SKIPPED_STALE,
    WebhookEvent,
)
from sync import jobs
from sync.customers import Change, apply_changes
from sync.jobs import huey
from sync.ordering import Source, Version
from sync.pacing import bucket_for
from sync.stripe_client import EXPAND_ONE, account_options, make_client, stripe_second
from sync.webhook_input import CUSTOMER_EVENTS, DEAUTHORIZED, TAX_ID_EVENTS

REVOKED = "Access was revoked in Stripe"
# How long a tie may wait for Stripe's clock to pass the tied second.
TIE_DEADLINE = 5.0


@dataclass(frozen=True)
class Result:
    outcome: str
    status: int = 200
    duplicate: bool = False


# Routing runs for every delivery: the query of StripeAccount.connected_to (on the
# stripe_account_live index), without building a model instance each time.
_ROUTE = "SELECT business_id FROM stripe_account WHERE account_id = ? AND status = ?"


@dataclass(frozen=True)
class Route:
    """The live link an event is routed by."""

    account_id: str
    business_id: int


def _route(account: str | None) -> Route | None:
    if not account:
        return None
    row = execute(_ROUTE, (account, CONNECTED)).fetchone()
    return Route(account, row[0]) if row else None


def _disconnect(account: str, reason: str, kind: str, at: datetime | None = None) -> bool:
    """Mark the account's live link disconnected; False when it already was."""
    link = StripeAccount.connected_to(account)
    return link is not None and link.mark_disconnected(reason, at=at, kind=kind)


def _moment(second: int) -> datetime:
    return datetime.fromtimestamp(second, UTC).replace(tzinfo=None)


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
        changed = _disconnect(
            link.account_id, REVOKED, link_history.REVOKED, at=_moment(event["created"])
        )
        return (APPLIED if changed else SKIPPED_STALE), []
    if event["type"] in TAX_ID_EVENTS:
        # The event holds one tax id, not the customer's list: re-fetch the customer
        # (tax ids expanded) once Stripe's clock has passed the event, as for a tie.
        return PENDING, [event["data"]["object"]["customer"]]
    change = Change(
        event["data"]["object"],
        Version(event["created"], Source.EVENT),
        deleted=event["type"] == "customer.deleted",
    )
    result = apply_changes(link.business_id, [change])
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


# A failed event is replayed after 1 s, then ever more rarely (x1.5) for about four
# minutes; after that Stripe's own retries, which go on for three days, bring it back.
REPLAY_ATTEMPTS = 12
REPLAY_DELAY = 1.0


@huey.task(retries=REPLAY_ATTEMPTS, retry_delay=REPLAY_DELAY, retry_backoff=1.5)
def replay_event(event: dict, payload: bytes) -> None:
    """Apply an event that failed earlier, from its own payload; raising makes the
    queue try again later. A duplicate of it that succeeded meanwhile makes this a
    no-op (its outcome is final)."""
    with jobs.connection():
        result = receive(event, payload, jobs.settings(), replaying=True)
    if result.status != 200:
        raise RuntimeError(f"event {event['id']} still cannot be applied: {result.outcome}")


def receive(event: dict, payload: bytes, config: Mapping, *, replaying: bool = False) -> Result:
    """Record and apply one verified event. 503 when it could not be applied now (it is
    replayed from the queue, and Stripe retries too); a duplicate of an event with a
    final outcome is answered 200 as is."""
    live_keys = config["STRIPE_SECRET_KEY"].startswith(("sk_live_", "rk_live_"))
    try:
        with write_transaction():
            if not WebhookEvent.claim(_fields(event, payload, outcome=PENDING)):
                return Result(WebhookEvent.outcome_of(event["id"]), duplicate=True)
            link = _route(event.get("account"))
            reason = _ignore_reason(event, link, live_keys)
            outcome, ties = (IGNORED, []) if reason else _apply(event, link)
            business = link.business_id if link else None
            WebhookEvent.set_outcome(event["id"], outcome, reason, business=business)
    except DatabaseError:
        return _failed(event, payload, replaying)
    if ties:
        return _settle_ties(event, payload, link, ties, config, replaying)
    return Result(outcome)


def _failed(event: dict, payload: bytes, replaying: bool, delay: float = 0) -> Result:
    """Answer 503 at once and queue a replay (unless this is one: the queue retries
    it). The replay records the outcome, since the database may be what failed."""
    if not replaying:
        replay_event.schedule(args=(event, payload), delay=delay)
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
            obj = _fetch_after(client, budget, stripe_id, link.account_id, event["created"])
            deleted = bool(obj["deleted"]) if "deleted" in obj else False
            changes.append(
                Change(obj.to_dict(), Version(stripe_second(obj), Source.FETCH), deleted)
            )
    except (stripe.PermissionError, stripe.AuthenticationError) as exc:
        _disconnect(
            link.account_id,
            f"Stripe refused access: {exc.user_message or exc}",
            link_history.REFUSED,
        )
        reason = "Stripe refused access; the link is now disconnected."
        WebhookEvent.set_outcome(event["id"], IGNORED, reason)
        return Result(IGNORED)
    except (stripe.StripeError, TimeoutError) as exc:
        error = f"Could not reach Stripe to settle a same-second tie: {exc}"
        WebhookEvent.set_outcome(event["id"], FAILED, error)
        return _failed(event, payload, replaying, delay=REPLAY_DELAY)
    try:
        with write_transaction():
            apply_changes(link.business_id, changes)
            WebhookEvent.set_outcome(event["id"], APPLIED, refetched=True)
    except DatabaseError:
        return _failed(event, payload, replaying)
    return Result(APPLIED)


def _fetch_after(client: stripe.StripeClient, budget, stripe_id: str, account: str, tied: int):
    """Retrieve the customer with a ``Date`` later than the tied second, so it reflects
    every change made in that second."""
    deadline = time.monotonic() + TIE_DEADLINE
    while True:
        budget.acquire()
        obj = client.v1.customers.retrieve(
            stripe_id, {"expand": list(EXPAND_ONE)}, options=account_options(account)
        )
        if stripe_second(obj) > tied:
            return obj
        if time.monotonic() > deadline:
            raise TimeoutError(f"Stripe's clock did not pass second {tied}")
        time.sleep(min(1.0, max(0.05, tied + 1 - time.time())))
