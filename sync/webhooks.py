"""Stripe webhook events: verified, recorded once, routed to a business and applied
under the ordering rule (sync/ordering.py) through ``apply_changes``.

Each delivery is one ``BEGIN IMMEDIATE`` transaction (record + apply + outcome), so a
duplicate is never applied twice and Stripe's retries of a failed event apply it later.
Stripe is called only to settle a same-second tie, and never inside that transaction.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import stripe
from peewee import DatabaseError

from models import link_history
from models.db import db, write_transaction
from models.stripe_account import CONNECTED, StripeAccount
from models.webhook_event import (
    APPLIED,
    FAILED,
    FINAL,
    IGNORED,
    PENDING,
    SKIPPED_STALE,
    WebhookEvent,
)
from sync.customers import Change, apply_changes
from sync.failures import FailureRecorder
from sync.ordering import Source, Version
from sync.stripe_client import account_options, make_client, stripe_second
from sync.webhook_input import CUSTOMER_EVENTS, DEAUTHORIZED
from sync.write_turns import turns

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
    row = db.execute_sql(_ROUTE, (account, CONNECTED)).fetchone()
    return Route(account, row[0]) if row else None


def _disconnect(account: str, reason: str, kind: str, at: datetime | None = None) -> bool:
    """Mark the account's live link disconnected; False when it already was."""
    link = StripeAccount.connected_to(account)
    return link is not None and link.mark_disconnected(reason, at=at, kind=kind)


def _moment(second: int) -> datetime:
    return datetime.fromtimestamp(second, UTC).replace(tzinfo=None)


def _ignore_reason(event: dict, link: Route | None, live_keys: bool) -> str | None:
    if event["type"] not in (*CUSTOMER_EVENTS, DEAUTHORIZED):
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
    change = Change(
        event["data"]["object"],
        Version(event["created"], Source.EVENT),
        deleted=event["type"] == "customer.deleted",
    )
    result = apply_changes(link.business_id, [change])
    if result.ties:
        return PENDING, result.ties
    return (SKIPPED_STALE if result.skipped else APPLIED), []


def _record(event: dict, payload: bytes, **fields) -> None:
    obj = event["data"].get("object")
    customer = obj.get("id") if event["type"] in CUSTOMER_EVENTS else None
    WebhookEvent.record(
        {
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
    )


failures = FailureRecorder(
    lambda event, payload, error: _record(event, payload, outcome=FAILED, error=error)
)


def receive(event: dict, payload: bytes, config: Mapping) -> Result:
    """Record and apply one verified event. 503 (Stripe retries) when it could not be
    applied now; a duplicate of an event with a final outcome is answered 200 as is."""
    live_keys = config["STRIPE_SECRET_KEY"].startswith(("sk_live_", "rk_live_"))
    try:
        with turns.turn(), write_transaction():
            seen = WebhookEvent.outcome_of(event["id"])
            if seen in FINAL:
                return Result(seen, duplicate=True)
            link = _route(event.get("account"))
            reason = _ignore_reason(event, link, live_keys)
            outcome, ties = (IGNORED, []) if reason else _apply(event, link)
            business = link.business_id if link else None
            _record(event, payload, outcome=outcome, error=reason, business=business)
    except DatabaseError as exc:
        return _failed(event, payload, f"Database unavailable: {exc}")
    if ties:
        return _settle_ties(event, payload, link, ties, config)
    return Result(outcome)


def _failed(event: dict, payload: bytes, error: str) -> Result:
    """Answer 503 at once; the failure is recorded by a background thread, since the
    database may be what failed (locked by another writer, say)."""
    failures.put(event, payload, error)
    return Result(FAILED, status=503)


def _settle_ties(
    event: dict, payload: bytes, link: Route, ties: list[str], config: Mapping
) -> Result:
    """Fetch each tied customer once Stripe's clock has left the tied second, and apply
    what Stripe says now. Runs outside any transaction: Stripe may be slow."""
    client = make_client(config)
    changes = []
    try:
        for stripe_id in ties:
            obj = _fetch_after(client, stripe_id, link.account_id, event["created"])
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
        return Result(FAILED, status=503)
    try:
        with turns.turn(), write_transaction():
            apply_changes(link.business_id, changes)
            WebhookEvent.set_outcome(event["id"], APPLIED, refetched=True)
    except DatabaseError as exc:
        return _failed(event, payload, f"Database unavailable: {exc}")
    return Result(APPLIED)


def _fetch_after(client: stripe.StripeClient, stripe_id: str, account: str, tied: int):
    """Retrieve the customer with a ``Date`` later than the tied second, so it reflects
    every change made in that second."""
    deadline = time.monotonic() + TIE_DEADLINE
    while True:
        obj = client.v1.customers.retrieve(stripe_id, options=account_options(account))
        if stripe_second(obj) > tied:
            return obj
        if time.monotonic() > deadline:
            raise TimeoutError(f"Stripe's clock did not pass second {tied}")
        time.sleep(min(1.0, max(0.05, tied + 1 - time.time())))
