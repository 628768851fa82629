"""The one place a ``StripeClient`` is built, so the same code talks to real Stripe
or to the local sandbox depending only on configuration."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import TypeVar

import stripe

# Stripe sends a customer's tax ids only when asked to expand them: on a list
# (``expand[]=data.tax_ids``) and on a retrieve (``expand[]=tax_ids``).
EXPAND_LIST = ("data.tax_ids",)
EXPAND_ONE = ("tax_ids",)

T = TypeVar("T")


def make_client(config: Mapping) -> stripe.StripeClient:
    """A client with the platform key. No automatic retries: the OAuth token call
    must never be repeated, and the import does its own paced back-off."""
    bases = {}
    if config.get("STRIPE_API_BASE"):
        bases["api"] = config["STRIPE_API_BASE"]
    if config.get("STRIPE_CONNECT_BASE"):
        bases["connect"] = config["STRIPE_CONNECT_BASE"]
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        client_id=config.get("STRIPE_CLIENT_ID"),
        base_addresses=bases or None,
        max_network_retries=0,
    )


def account_options(account_id: str) -> dict:
    """Request options that act on behalf of a connected account."""
    return {"stripe_account": account_id}


def read_second(answer, elapsed: float) -> int:
    """The Stripe-clock second in which (or after which) a read was made: the one
    place that dates what Stripe told us (sync/ordering.py turns it into a stamp).

    ``answer`` is what the request returned: a raw response (``.headers``) or a
    ``StripeObject`` (``.last_response.headers``); ``elapsed`` the seconds from sending
    that request to its answer, measured here. Stripe's ``Date`` is whole seconds, so it
    answered within [Date, Date + 1), and read no earlier than ``elapsed`` before it
    answered: the read happened at or after Date - elapsed, so in or after second
    ⌊Date - elapsed⌋ — ``Date - 1`` for a quick answer, earlier for a slow one. Without
    a ``Date`` header, our own clock stands in for Stripe's."""
    response = getattr(answer, "last_response", answer)
    headers = getattr(response, "headers", None) or {}
    answered = time.time()
    date = headers.get("date") if hasattr(headers, "get") else None
    if date:
        with contextlib.suppress(TypeError, ValueError):
            answered = parsedate_to_datetime(date).timestamp()
    return math.floor(answered - elapsed)


def timed_read(call: Callable[[], T]) -> tuple[T, int]:
    """Make one read request; returns its answer and its ``read_second``. Wrap each
    attempt (inside ``with_retries``), so the time measured is the successful one's
    alone, not the pacing or back-off before it."""
    started = time.monotonic()
    answer = call()
    return answer, read_second(answer, time.monotonic() - started)
