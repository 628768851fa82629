"""The events list a catch-up reads: the account's customer, tax id and deauthorization
events since a second that were not delivered, every page of 100 (so one request per
100 missed events), each request paced by the account's budget and retried through
rate limits and 5xx."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import stripe

from sync.pacing import bucket_for, with_retries
from sync.stripe_client import account_options, make_client, timed_read
from sync.webhook_input import CUSTOMER_EVENTS, DEAUTHORIZED, TAX_ID_EVENTS

log = logging.getLogger(__name__)

# Exact names (`types[]`, at most 20): `customer.*` would also bring subscriptions,
# discounts and sources, which this app does not use.
EVENT_TYPES = (*CUSTOMER_EVENTS, *TAX_ID_EVENTS, DEAUTHORIZED)
PAGE_SIZE = 100


@dataclass
class Listing:
    events: list[dict] = field(default_factory=list)  # as Stripe lists them, newest first
    requests: int = 0
    started_second: int | None = None  # Stripe's clock when the first page was answered

    @property
    def newest(self) -> int | None:
        return max((event["created"] for event in self.events), default=None)


def list_events(
    link,
    since: int,
    config: Mapping,
    *,
    beat: Callable[[], None],
    progress: Callable,
    stop: threading.Event | None = None,
    undelivered_only: bool = False,
) -> Listing:
    """Every event of ``link``'s account created at or after ``since``; with
    ``undelivered_only``, only those Stripe has not delivered to every endpoint
    (``delivery_success=false``: failed, or still being retried), as Stripe advises for
    recovering undelivered events. A delivered event was applied before it was answered
    2xx (or held, and held events are applied from their stored payloads), so that
    listing costs a request per 100 *missed* events, not per 100 events. A Stripe
    stand-in that refuses the filter gets the unfiltered listing instead. Raises what
    Stripe raises (a revoked account: ``PermissionError``), ``Exhausted``, or
    ``Stopped`` once ``stop`` is set (the worker is shutting down)."""
    client = make_client(config)
    budget = bucket_for(config, account=link.account_id, livemode=link.livemode)
    options = account_options(link.account_id)
    listing = Listing()
    params = {"types": list(EVENT_TYPES), "created": {"gte": since}, "limit": PAGE_SIZE}
    if undelivered_only:
        params["delivery_success"] = False

    def request():
        listing.requests += 1
        try:
            return timed_read(lambda: client.v1.events.list(params, options))
        except stripe.InvalidRequestError as error:
            if error.param != "delivery_success" or "delivery_success" not in params:
                raise
            del params["delivery_success"]
            log.warning("Stripe refused delivery_success; listing every event instead")
            return timed_read(lambda: client.v1.events.list(params, options))

    while True:
        page, read_second = with_retries(request, budget, stop=stop)
        if listing.started_second is None:
            listing.started_second = read_second
        for event in page.data:
            obj = event.to_dict()
            # Listed with the account's header, an event may leave out its account.
            obj.setdefault("account", link.account_id)
            listing.events.append(obj)
        beat()
        progress("listing", len(listing.events), 0, listing.requests)
        if not page.has_more or not page.data:
            return listing
        params["starting_after"] = page.data[-1].id
