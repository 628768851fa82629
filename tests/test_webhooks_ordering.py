"""Order-safety: every arrival order of a customer's events ends in Stripe's final
state; same-second ties are settled by fetching the customer from a real sandbox."""

from __future__ import annotations

import itertools
import time

import pytest

from models import Customer, StripeAccount
from models.webhook_event import FINAL, WebhookEvent
from stripe_sandbox.testing import SandboxServer
from sync.stripe_client import account_options
from tests.webhooks_support import (  # noqa: F401  (the app and account fixtures)
    deliver,
    linked_account_fixture,
    make_event,
    sandbox_app_fixture,
    webhook_app,
)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer() as server:
        yield server


def true_customer(sandbox, account, *, deleted=False) -> dict:
    """A customer as Stripe holds it now (the state every order must end in)."""
    options = account_options(account)
    client = sandbox.client()
    customer = client.v1.customers.create({"name": "C final", "email": "c@x.example"}, options)
    if deleted:
        client.v1.customers.delete(customer.id, options=options)
    return customer.to_dict()


def versions(customer: dict, names: list[str]) -> list[dict]:
    return [{**customer, "name": name, "email": f"{name[0].lower()}@x.example"} for name in names]


def sequence(customer, account, stamps, *, deleted):
    """created A, updated B, updated C[, deleted C] at the given seconds (in the past,
    so Stripe's clock is already past each of them)."""
    base = int(time.time()) - 3600
    a, b, c = versions(customer, ["A first", "B second", "C final"])
    kinds = [("customer.created", a), ("customer.updated", b), ("customer.updated", c)]
    if deleted:
        kinds.append(("customer.deleted", c))
    return [
        make_event(kind, obj, created=base + stamp, account=account)
        for (kind, obj), stamp in zip(kinds, stamps, strict=True)
    ]


CASES = {
    "distinct seconds, deleted": ((0, 1, 2, 3), True),
    "updates in the same second": ((0, 1, 1), False),
    "everything in one second": ((0, 0, 0), False),
    "same-second updates, deleted in that second": ((0, 1, 1, 1), True),
    "same-second updates, deleted later": ((0, 1, 1, 2), True),
}


@pytest.mark.parametrize("case", CASES)
def test_every_arrival_order_ends_in_the_final_state(client, sandbox, account, case):
    stamps, deleted = CASES[case]
    for order in itertools.permutations(range(len(stamps))):
        customer = true_customer(sandbox, account, deleted=deleted)
        events = sequence(customer, account, stamps, deleted=deleted)
        for index in order:
            response = deliver(client, events[index])
            assert response.status_code == 200, (order, response.json)
        row = Customer.get(Customer.stripe_customer_id == customer["id"])
        assert (row.name, row.email) == ("C final", "c@x.example"), (case, order)
        assert (row.deleted_in_stripe_at is not None) is deleted, (case, order)
        assert all(e.outcome != "pending" for e in WebhookEvent.select())


def test_a_tie_fetches_the_customer_and_applies_what_stripe_says(client, sandbox, account):
    customer = true_customer(sandbox, account)
    first, second, _ = sequence(customer, account, (0, 0, 0), deleted=False)
    deliver(client, first)
    assert deliver(client, second).json["outcome"] == "applied"
    row = Customer.get(Customer.stripe_customer_id == customer["id"])
    assert row.name == "C final"
    assert row.stripe_version_source == 2  # Source.FETCH
    assert row.stripe_version_at > second["created"]
    refetched = {e.event_id: e.refetched for e in WebhookEvent.select()}
    assert refetched == {first["id"]: False, second["id"]: True}


def test_a_tie_with_a_deleted_customer_marks_the_row_deleted(client, sandbox, account):
    customer = true_customer(sandbox, account, deleted=True)
    first, second, _ = sequence(customer, account, (0, 0, 0), deleted=False)
    deliver(client, first)
    deliver(client, second)
    row = Customer.get(Customer.stripe_customer_id == customer["id"])
    assert row.deleted_in_stripe_at is not None
    assert row.name == "A first"  # the stub carries no fields; customer.deleted will


def test_stripe_unreachable_during_a_tie_answers_503_and_the_retry_applies(
    client, sandbox, account
):
    customer = true_customer(sandbox, account)
    first, second, _ = sequence(customer, account, (0, 0, 0), deleted=False)
    deliver(client, first)
    sandbox.configure(error_rate=1.0)
    try:
        response = deliver(client, second)
    finally:
        sandbox.configure(error_rate=0.0)
    assert response.status_code == 503
    stored = WebhookEvent.get(WebhookEvent.event_id == second["id"])
    assert stored.outcome == "failed" and "Could not reach Stripe" in stored.error
    retried = deliver(client, second)
    assert (retried.status_code, retried.json["outcome"]) == (200, "applied")
    assert WebhookEvent.get(WebhookEvent.event_id == second["id"]).attempts == 2
    assert Customer.get(Customer.stripe_customer_id == customer["id"]).name == "C final"


def test_revoked_access_during_a_tie_disconnects_the_link(client, sandbox, account, business):
    customer = true_customer(sandbox, account)
    first, second, _ = sequence(customer, account, (0, 0, 0), deleted=False)
    deliver(client, first)
    sandbox.deauthorize(account)
    response = deliver(client, second)
    assert (response.status_code, response.json["outcome"]) == (200, "ignored")
    link = StripeAccount.for_business(business)
    assert link.status == "disconnected"
    assert "Stripe refused access" in link.disconnect_reason
    assert "disconnected" in WebhookEvent.get(WebhookEvent.event_id == second["id"]).error


def test_duplicated_and_reordered_deliveries_end_in_stripes_state(sandbox, account, live_server):
    """The sandbox itself delivers: duplicates, shuffled order, same-second changes."""
    sandbox.add_webhook_endpoint(f"{live_server.url}/webhooks/stripe", "whsec_current")
    sandbox.configure(webhook_duplicate_rate=0.5, webhook_reorder=True, seed=11)
    try:
        client, options = sandbox.client(), account_options(account)
        ids = [client.v1.customers.create({"name": f"N{i}"}, options).id for i in range(8)]
        for round_ in range(2):
            for i, cid in enumerate(ids):
                client.v1.customers.update(cid, {"name": f"N{i} r{round_}"}, options)
        for cid in ids[:3]:
            client.v1.customers.delete(cid, options=options)
        sandbox.wait_for_deliveries_idle(timeout=30)
        delivered = [d["event"] for d in sandbox.deliveries() if d["outcome"] == "delivered"]
        assert len(delivered) > len(set(delivered)), "the sandbox sent no duplicates"
    finally:
        sandbox.configure(webhook_duplicate_rate=0.0, webhook_reorder=False)
    rows = {c.stripe_customer_id: c for c in Customer.select()}
    assert set(rows) == set(ids)
    for i, cid in enumerate(ids):
        assert rows[cid].name == f"N{i} r1"
        assert (rows[cid].deleted_in_stripe_at is not None) is (cid in ids[:3])
    assert WebhookEvent.select().where(WebhookEvent.outcome.not_in(FINAL)).count() == 0
