"""Builders for Stripe-shaped objects (ids, customers, events, OAuth tokens)."""

from __future__ import annotations

import json
import secrets
import string
import time
from typing import Any

_ALNUM = string.ascii_letters + string.digits
_rand = secrets.SystemRandom()
# Maps each random byte to an id character (62 symbols; the slight bias is harmless here).
_BYTE_TO_CHAR = bytes(ord(_ALNUM[i % len(_ALNUM)]) for i in range(256))

# Fields a client may set on create/update, with the value a fresh customer has.
CUSTOMER_WRITABLE: dict[str, Any] = {
    "address": None,
    "description": None,
    "email": None,
    "name": None,
    "phone": None,
    "preferred_locales": [],
    "shipping": None,
    "tax_exempt": "none",
    "metadata": {},
    "balance": 0,
    "invoice_settings": None,
}


def new_id(prefix: str, length: int = 14, rng: Any = _rand) -> str:
    """Stripe-like id: a prefix plus random alphanumerics (`cus_QXg1o8vcGmoR32`)."""
    return prefix + rng.randbytes(length).translate(_BYTE_TO_CHAR).decode()


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes; cached per object so list pages are mostly a byte join."""
    return json.dumps(obj, separators=(",", ":")).encode()


def customer(
    cid: str, created: int, *, email: str | None = None, name: str | None = None, prefix: str = ""
) -> dict[str, Any]:
    """A customer with every field of Stripe's fixture, in its fresh-object state."""
    return {
        "id": cid,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": created,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": email,
        "invoice_prefix": prefix or cid[4:11].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": name,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def deleted_customer(cid: str) -> dict[str, Any]:
    return {"id": cid, "object": "customer", "deleted": True}


def event(
    *,
    type: str,
    account: str,
    obj: dict[str, Any],
    api_version: str,
    pending_webhooks: int,
    previous: dict[str, Any] | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """An Event with the fields Stripe sends for Connect (top-level `account`)."""
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "id": new_id("evt_", 24),
        "object": "event",
        "account": account,
        "api_version": api_version,
        "created": int(time.time()),
        "data": data,
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": type,
    }


def account(account_id: str, name: str, created: int) -> dict[str, Any]:
    """A Standard connected account as `GET /v1/accounts/{id}` returns it to the
    platform: the owner-chosen names live in `settings.dashboard.display_name` and
    `business_profile.name`."""
    return {
        "id": account_id,
        "object": "account",
        "business_profile": {"name": name, "url": None, "support_email": None},
        "business_type": "company",
        "charges_enabled": True,
        "country": "US",
        "created": created,
        "default_currency": "usd",
        "details_submitted": True,
        "email": None,
        "metadata": {},
        "payouts_enabled": True,
        "settings": {"dashboard": {"display_name": name, "timezone": "Etc/UTC"}},
        "type": "standard",
    }


def application(client_id: str, name: str) -> dict[str, Any]:
    return {"id": client_id, "object": "application", "name": name}


def oauth_token(account: str, scope: str) -> dict[str, Any]:
    """The /oauth/token answer; the token fields are deprecated by Stripe but still sent."""
    return {
        "access_token": new_id("sk_test_", 24),
        "livemode": False,
        "refresh_token": new_id("rt_", 24),
        "scope": scope,
        "stripe_publishable_key": new_id("pk_test_", 24),
        "stripe_user_id": account,
        "token_type": "bearer",
    }
