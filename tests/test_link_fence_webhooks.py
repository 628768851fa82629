"""A webhook's tie fetch carries the fence of the link that routed the event: what
Stripe answers is not written once the link was attached again meanwhile."""

from __future__ import annotations

import threading
import time

import pytest

from models import Customer, StripeAccount
from models.webhook_event import PENDING, WebhookEvent
from stripe_sandbox.testing import SandboxServer
from sync.stripe_client import account_options
from sync.webhooks import LINK_CHANGED
from tests.conftest import wait_until
from tests.webhooks_support import (  # noqa: F401  (the app and account fixtures)
    deliver,
    linked_account_fixture,
    make_event,
    sandbox_app_fixture,
)


@pytest.fixture(name="sandbox")
def sandbox_fixture():
    with SandboxServer() as server:
        yield server


def test_a_tie_settled_after_a_reconnect_is_not_written(client, sandbox, account, business):
    options = account_options(account)
    customer = sandbox.client().v1.customers.create({"name": "In Stripe"}, options).to_dict()
    second = int(time.time()) - 60
    first, tied = (
        make_event("customer.updated", {**customer, "name": name}, created=second, account=account)
        for name in ("First", "Tied")
    )
    assert deliver(client, first).json["outcome"] == "applied"
    sandbox.configure(retrieve_latency_ms=1500)  # Stripe is slow to answer the re-fetch
    answers = []
    delivery = threading.Thread(target=lambda: answers.append(deliver(client, tied)))
    delivery.start()
    wait_until(lambda: WebhookEvent.outcome_of(tied["id"]) == PENDING)
    # While the customer is being fetched, the owner connects the account again.
    StripeAccount.attach(business, account, livemode=False)
    delivery.join()
    sandbox.configure(retrieve_latency_ms=None)

    assert answers[0].json["outcome"] == "ignored"
    assert WebhookEvent.get(WebhookEvent.event_id == tied["id"]).error == LINK_CHANGED
    assert Customer.get(Customer.stripe_customer_id == customer["id"]).name == "First"
