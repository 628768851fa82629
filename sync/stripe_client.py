"""The one place a ``StripeClient`` is built, so the same code talks to real Stripe
or to the local sandbox depending only on configuration."""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

import stripe

# Stripe sends a customer's tax ids only when asked to expand them: on a list
# (``expand[]=data.tax_ids``) and on a retrieve (``expand[]=tax_ids``).
EXPAND_LIST = ("data.tax_ids",)
EXPAND_ONE = ("tax_ids",)


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


def stripe_second(obj: stripe.StripeObject) -> int:
    """Stripe's clock, in whole seconds, when it answered the request that returned
    ``obj`` (its ``Date`` header); our own clock when the header is missing."""
    response = getattr(obj, "last_response", None)
    date = response.headers.get("date") if response is not None else None
    if date:
        try:
            return int(parsedate_to_datetime(date).timestamp())
        except (TypeError, ValueError):
            pass
    return int(time.time())
