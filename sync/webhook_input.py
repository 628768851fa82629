"""What a webhook delivery must be before anything is stored: signed by Stripe with a
configured secret, recent, and a well-formed event whose every field has the type and
range this app can store (sync/customer_input.py checks the customer object). A valid
signature proves only that the sender holds the secret, so each check runs anyway and
any failure answers 400 with nothing stored."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping

import stripe

from sync.customer_input import InvalidCustomer, check_customer, in_created_range

MAX_BODY = 1024 * 1024
TOLERANCE = 300  # seconds, Stripe's library default; also applied to the future
CUSTOMER_EVENTS = ("customer.created", "customer.updated", "customer.deleted")
# A customer's tax ids changed: its events carry the tax_id, not the customer.
TAX_ID_EVENTS = ("customer.tax_id.created", "customer.tax_id.updated", "customer.tax_id.deleted")
DEAUTHORIZED = "account.application.deauthorized"
# Stripe-Signature is `t=<seconds>,v1=<hex>[,v1=…][,v0=…]`: anything else is refused
# before the library, which reads `t=123=x` as t=123 and would accept it.
_SIGNATURE_ITEM = re.compile(r"[a-z][a-z0-9]{0,9}=[!-<>-~]{1,512}")  # one "=" only
_STAMP = re.compile(r"t=\d{1,12}")
_TEXT_FIELDS = ("id", "type")


class InvalidEvent(ValueError):
    """The delivery is not a verified, well-formed event: answer 400, store nothing."""


def secrets_from(config: Mapping) -> list[str]:
    """Every configured signing secret: several are valid while a secret is rolled."""
    return [s.strip() for s in config.get("STRIPE_WEBHOOK_SECRET", "").split(",") if s.strip()]


def verify(payload: bytes, header: str | None, secrets: list[str]) -> None:
    """Check ``Stripe-Signature`` with the official library against any configured
    secret. The library rejects old timestamps only, so ones from the future are too."""
    items = (header or "").split(",")
    stamps = [item for item in items if item.startswith("t=")]
    well_formed = all(_SIGNATURE_ITEM.fullmatch(item) for item in items)
    if len(stamps) != 1 or not _STAMP.fullmatch(stamps[0]) or not well_formed:
        raise InvalidEvent("Invalid signature: the Stripe-Signature header is malformed.")
    errors = []
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, TOLERANCE)
        except stripe.SignatureVerificationError as exc:
            errors.append(str(exc.user_message or exc))
            continue
        except UnicodeDecodeError:
            raise InvalidEvent("The body is not UTF-8.") from None
        if int(stamps[0][2:]) > time.time() + TOLERANCE:
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
    except (ValueError, RecursionError):
        # RecursionError: nesting deeper than the parser's stack (50,000 levels, say).
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
        if type(event.get(name)) is not kind:  # JSON gives exact types; True is no int
            raise InvalidEvent(f"The event has no valid {name!r}.")
    for name in _TEXT_FIELDS:
        if not 0 < len(event[name]) <= 255 or not event[name].isprintable():
            raise InvalidEvent(f"The event's {name!r} is not 1-255 printable characters.")
    account = event.get("account")
    if account is not None and not (
        isinstance(account, str) and 0 < len(account) <= 255 and account.isprintable()
    ):
        raise InvalidEvent("The event's 'account' is not 1-255 printable characters.")
    if not in_created_range(event["created"]):
        raise InvalidEvent("The event's 'created' is not a time between 2009-01-01 and tomorrow.")
    if event["type"] in CUSTOMER_EVENTS:
        obj = event["data"].get("object")
        if not (isinstance(obj, dict) and isinstance(obj.get("id"), str)):
            raise InvalidEvent("The customer event has no customer object.")
        try:
            check_customer(obj)
        except InvalidCustomer as error:
            raise InvalidEvent(f"The customer object is not acceptable: {error}.") from None
    if event["type"] in TAX_ID_EVENTS:
        obj = event["data"].get("object")
        if not (isinstance(obj, dict) and isinstance(obj.get("customer"), str)):
            raise InvalidEvent("The tax id event names no customer.")
    return event
