"""Webhooks keep the full customer object: the sandbox delivers signed events to the
live app over HTTP; events never carry tax ids, so stored ones stay, and a
customer.tax_id.* event re-fetches the customer with its tax ids expanded."""

from __future__ import annotations

import pytest

from models import Customer
from models.stripe_object import unpack
from models.webhook_event import FINAL, WebhookEvent
from stripe_sandbox.testing import SandboxServer
from sync.stripe_client import account_options
from tests.conftest import wait_until
from tests.webhooks_support import (  # noqa: F401  (the app and account fixtures)
    SECRET,
    deliver,
    linked_account_fixture,
    make_event,
    sandbox_app_fixture,
    webhook_app,
)


@pytest.fixture
def sandbox():
    with SandboxServer() as server:
        yield server


def stored(cid):
    row = Customer.get_or_none(Customer.stripe_customer_id == cid)
    return unpack(row.stripe_object) if row and row.stripe_object else None


def settled():
    return WebhookEvent.select().where(WebhookEvent.outcome.not_in(FINAL)).count() == 0


def test_live_events_keep_the_object_and_its_tax_ids(sandbox, account, live_server):
    sandbox.add_webhook_endpoint(f"{live_server.url}/webhooks/stripe", SECRET)
    client, options = sandbox.client(), account_options(account)
    made = client.v1.customers.create(
        {"name": "Tia Tax", "phone": "+1 555 0100", "metadata": {"crm_id": "CRM-1"}}, options
    )
    client.v1.customers.tax_ids.create(made.id, {"type": "eu_vat", "value": "DE123456789"}, options)
    wait_until(lambda: (stored(made.id) or {}).get("tax_ids"), message="tax ids fetched")
    client.v1.customers.update(made.id, {"phone": "+1 555 0199"}, options)
    wait_until(lambda: stored(made.id)["phone"] == "+1 555 0199", message="update applied")
    assert [t["value"] for t in stored(made.id)["tax_ids"]["data"]] == ["DE123456789"]
    client.v1.customers.delete(made.id, options=options)
    wait_until(
        lambda: Customer.get(Customer.stripe_customer_id == made.id).deleted_in_stripe_at,
        message="deletion applied",
    )
    sandbox.wait_for_deliveries_idle(timeout=30)
    wait_until(settled, message="every event settled")
    final = stored(made.id)
    assert (final["phone"], final["metadata"]) == ("+1 555 0199", {"crm_id": "CRM-1"})
    assert [t["value"] for t in final["tax_ids"]["data"]] == ["DE123456789"]


def test_a_tax_id_event_refetches_the_customer(client, sandbox, account):
    options = account_options(account)
    made = sandbox.client().v1.customers.create({"name": "Tom"}, options)
    tax = sandbox.client().v1.customers.tax_ids.create(
        made.id, {"type": "gb_vat", "value": "GB123456789"}, options
    )
    response = deliver(
        client, make_event("customer.tax_id.created", tax.to_dict(), account=account)
    )
    assert response.status_code == 200 and response.json["outcome"] == "applied"
    event = WebhookEvent.get()
    assert (event.stripe_customer_id, event.refetched) == (made.id, True)
    assert [t["value"] for t in stored(made.id)["tax_ids"]["data"]] == ["GB123456789"]


def test_a_tax_id_event_without_a_customer_is_refused(client, account):
    event = make_event(
        "customer.tax_id.created", {"id": "txi_1", "object": "tax_id"}, account=account
    )
    response = deliver(client, event)
    assert response.status_code == 400 and "names no customer" in response.json["error"]
