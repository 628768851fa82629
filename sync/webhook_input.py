"""What a webhook delivery must be before anything is stored: signed by Stripe with a
configured secret, recent, and a well-formed event."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

import stripe

MAX_BODY = 1024 * 1024
TOLERANCE = 300  # seconds, Stripe's library default; also applied to the future
CUSTOMER_EVENTS = ("customer.created", "customer.updated", "customer.deleted")
# A customer's tax ids changed: its events carry the tax_id, not the customer.
TAX_ID_EVENTS = ("customer.tax_id.created", "customer.tax_id.updated", "customer.tax_id.deleted")
DEAUTHORIZED = "account.application.deauthorized"


class InvalidEvent(ValueError):
    """The delivery is not a verified, well-formed event: answer 400, store nothing."""


def secrets_from(config: Mapping) -> list[str]:
    """Every configured signing secret: several are valid while a secret is rolled."""
    return [s.strip() for s in config.get("STRIPE_WEBHOOK_SECRET", "").split(",") if s.strip()]


def verify(payload: bytes, header: str | None, secrets: list[str]) -> None:
    """Check ``Stripe-Signature`` with the official library against any configured
    secret. The library rejects old timestamps only, so ones from the future are too."""
    errors = []
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, TOLERANCE)
        except stripe.SignatureVerificationError as exc:
            errors.append(str(exc.user_message or exc))
            continue
        except UnicodeDecodeError:
            raise InvalidEvent("The body is not UTF-8.") from None
        stamp = next(p[2:] for p in header.split(",") if p.startswith("t="))
        if int(stamp) > time.time() + TOLERANCE:
            raise InvalidEvent("Timestamp is in the future beyond the tolerance.")
        return
    # A secret that matched but was too old says more than the others' mismatch.
    errors.sort(key=lambda message: "matching" in message)
    raise InvalidEvent(
        f"Invalid signature: {errors[0] if errors else 'no signing secret is configured.'}"
    )


def parse(payload: bytes) -> dict:
    """The event as a dict, with the fields routing relies on checked."""
    try:
        event = json.loads(payload)
    except ValueError:
        raise InvalidEvent("The body is not valid JSON.") from None
    if not isinstance(event, dict) or event.get("object") != "event":
        raise InvalidEvent("The body is not a Stripe event.")
    checks = (
        ("id", str),
        ("type", str),
        ("created", int),
        ("livemode", bool),
        ("data", dict),
    )
    for name, kind in checks:
        if not isinstance(event.get(name), kind):
            raise InvalidEvent(f"The event has no valid {name!r}.")
    if event["type"] in CUSTOMER_EVENTS:
        obj = event["data"].get("object")
        if not (isinstance(obj, dict) and isinstance(obj.get("id"), str)):
            raise InvalidEvent("The customer event has no customer object.")
        if not isinstance(obj.get("created"), int):
            raise InvalidEvent("The customer event's object has no 'created'.")
    if event["type"] in TAX_ID_EVENTS:
        obj = event["data"].get("object")
        if not (isinstance(obj, dict) and isinstance(obj.get("customer"), str)):
            raise InvalidEvent("The tax id event names no customer.")
    return event
