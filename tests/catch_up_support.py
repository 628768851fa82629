"""Shared pieces of the catch-up tests: a sandbox per test that delivers to the app
over real HTTP, a linked account with a mark, and Stripe's state to compare rows with."""

from __future__ import annotations

import math
import time

import pytest

from models import Customer, StripeAccount
from models.catch_up_state import CatchUpState
from models.webhook_event import WebhookEvent
from stripe_sandbox.testing import SandboxServer
from sync.stripe_client import account_options
from tests.conftest import LiveServer, make_test_app
from tests.webhooks_support import SECRET

QUICK = {
    "STRIPE_RATE_LIMIT": 0,
    "IMPORT_BACKOFF": 0.01,
    "SYNC_CATCH_UP_EVERY": 0,  # no periodic catch-up racing the test's own
}


@pytest.fixture(name="sandbox")
def sandbox_fixture():
    with SandboxServer(webhook_retry_base_ms=5, webhook_max_attempts=2) as server:
        yield server


@pytest.fixture(name="app")
def app_fixture(tmp_path, sandbox):
    return make_test_app(
        tmp_path, STRIPE_SANDBOX_URL=sandbox.url, STRIPE_WEBHOOK_SECRET=SECRET, **QUICK
    )


@pytest.fixture(name="live")
def live_fixture(app, sandbox):
    """The app over HTTP, as the sandbox's webhook endpoint."""
    server = LiveServer(app).start()
    sandbox.add_webhook_endpoint(f"{server.url}/webhooks/stripe", SECRET)
    yield server
    server.stop()


@pytest.fixture(name="account")
def account_fixture(sandbox, business) -> str:
    """A sandbox account linked to the business, caught up to a minute ago."""
    account = sandbox.create_account(name="Roof shop")
    StripeAccount.create(business=business, account_id=account)
    CatchUpState.record_reconciled(business.id, account, int(time.time()) - 60)
    return account


def stripe_state(sandbox, account) -> dict[str, tuple]:
    """Every live customer of the account: id → (name, email)."""
    listing = sandbox.client().v1.customers.list({"limit": 100}, account_options(account))
    return {c.id: (c.name, c.email) for c in listing.auto_paging_iter()}


def live_rows(business) -> dict[str, tuple]:
    rows = Customer.for_business(business).where(
        Customer.stripe_customer_id.is_null(False) & Customer.deleted_in_stripe_at.is_null()
    )
    return {row.stripe_customer_id: (row.name, row.email) for row in rows}


def stripe_event_ids(sandbox, account) -> list[str]:
    listing = sandbox.client().v1.events.list({"limit": 100}, account_options(account))
    return [event.id for event in listing.auto_paging_iter()]


def recorded_once(event_ids: list[str]) -> bool:
    """Each event has exactly one row (the table's unique key) with a final outcome."""
    rows = WebhookEvent.select().where(WebhookEvent.event_id.in_(event_ids))
    return sorted(r.event_id for r in rows) == sorted(event_ids) and all(
        r.outcome in ("applied", "skipped_stale", "ignored") for r in rows
    )


def request_bound(events: int) -> int:
    return math.ceil(events / 100) + 1


def changes(sandbox, account, n: int = 5) -> list[str]:
    """n customers created, two renamed, one deleted, one given a tax id."""
    client, options = sandbox.client(), account_options(account)
    ids = [
        client.v1.customers.create({"name": f"C{i}", "email": f"c{i}@x.example"}, options).id
        for i in range(n)
    ]
    client.v1.customers.update(ids[0], {"name": "C0 renamed"}, options)
    client.v1.customers.update(ids[1], {"email": "new1@x.example"}, options)
    client.v1.customers.delete(ids[2], options=options)
    client.v1.customers.tax_ids.create(ids[3], {"type": "eu_vat", "value": "DE123456789"}, options)
    return ids
