"""Building and signing Stripe events for the webhook tests, with the official
library's ``generate_signature_header`` (what Stripe and the sandbox send)."""

from __future__ import annotations

import itertools
import json
import time

import pytest
import stripe

from tests.conftest import make_test_app

SECRET = "whsec_current"
OLD_SECRET = "whsec_previous"
ACCOUNT = "acct_1TestShop"
BASE = 1_760_000_000
_ids = itertools.count(1)


def webhook_app(tmp_path, **config):
    """The suite's app, verifying webhooks with ``SECRET`` unless told otherwise."""
    return make_test_app(tmp_path, **{"STRIPE_WEBHOOK_SECRET": SECRET, **config})


def stripe_customer(cid="cus_1", *, name="Ada", email="ada@example.com", created=BASE) -> dict:
    return {"id": cid, "object": "customer", "name": name, "email": email, "created": created}


def make_event(kind, obj, *, created=BASE, account=ACCOUNT, livemode=False, event_id=None):
    """A Connect event as Stripe sends it (top-level ``account``)."""
    return {
        "id": event_id or f"evt_test{next(_ids):08d}",
        "object": "event",
        "account": account,
        "api_version": "2026-10-28.endive",
        "created": created,
        "data": {"object": obj},
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp or int(time.time())
    )


def deliver(client, event, *, secret=SECRET, timestamp=None, headers=None):
    """POST one event the way Stripe does: raw JSON body, signed over those bytes."""
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    sent = {"Stripe-Signature": sign(body, secret, timestamp)} if headers is None else headers
    return client.post("/webhooks/stripe", data=body, headers=sent, content_type="application/json")


# Fixtures of the modules that deliver events to an app talking to a real sandbox
# (each module brings its own ``sandbox`` fixture, of the scope it needs).
@pytest.fixture(name="app")
def sandbox_app_fixture(tmp_path, sandbox):
    return webhook_app(tmp_path, STRIPE_SANDBOX_URL=sandbox.url)


@pytest.fixture(name="account")
def linked_account_fixture(sandbox, business) -> str:
    """A sandbox account linked to the business."""
    from models.stripe_account import StripeAccount

    account = sandbox.create_account(name="Roof shop")
    StripeAccount.create(business=business, account_id=account)
    return account
