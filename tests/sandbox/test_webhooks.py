"""Events and webhook delivery: Stripe's fields, valid signatures, retries, /v1/events."""

import json

import pytest
import stripe


def _events(receiver):
    return [json.loads(body) for body in receiver.bodies()]


def test_signature_is_accepted_and_tampering_rejected(sandbox, client, account, receiver):
    client.v1.customers.create({"name": "Signed"}, {"stripe_account": account})
    sandbox.wait_for_deliveries_idle()
    body, headers = receiver.received[0]
    event = client.construct_event(body, headers["Stripe-Signature"], sandbox.webhook_secret)
    assert event.type == "customer.created"
    tampered = body.replace(b"Signed", b"Forged")
    with pytest.raises(stripe.SignatureVerificationError):
        client.construct_event(tampered, headers["Stripe-Signature"], sandbox.webhook_secret)
    with pytest.raises(stripe.SignatureVerificationError):
        client.construct_event(body, headers["Stripe-Signature"], "whsec_other")
    assert headers["Content-Type"].startswith("application/json")


def test_event_fields_follow_stripe(sandbox, client, account, receiver):
    customer = client.v1.customers.create(
        {"name": "Fields"}, {"stripe_account": account, "idempotency_key": "idem-1"}
    )
    sandbox.wait_for_deliveries_idle()
    (event,) = _events(receiver)
    assert event["id"].startswith("evt_") and event["object"] == "event"
    assert event["account"] == account and event["livemode"] is False
    assert event["api_version"] == "2026-10-28.endive"
    assert isinstance(event["created"], int) and event["pending_webhooks"] == 1
    assert event["request"]["idempotency_key"] == "idem-1"
    assert event["request"]["id"].startswith("req_")
    assert event["data"]["object"] == customer.to_dict()


def test_update_carries_previous_attributes(sandbox, client, account, receiver):
    opts = {"stripe_account": account}
    customer = client.v1.customers.create({"name": "Old", "metadata": {"a": "1"}}, opts)
    client.v1.customers.update(customer.id, {"name": "New", "metadata": {"b": "2"}}, opts)
    sandbox.wait_for_deliveries_idle()
    updated = _events(receiver)[-1]
    assert updated["type"] == "customer.updated"
    assert updated["data"]["previous_attributes"] == {"name": "Old", "metadata": {"b": None}}
    assert updated["data"]["object"]["name"] == "New"


def test_deleted_event_carries_the_full_customer(sandbox, client, account, receiver):
    opts = {"stripe_account": account}
    customer = client.v1.customers.create({"name": "Gone", "email": "gone@example.com"}, opts)
    client.v1.customers.delete(customer.id, options=opts)
    sandbox.wait_for_deliveries_idle()
    deleted = _events(receiver)[-1]
    assert deleted["type"] == "customer.deleted"
    assert deleted["data"]["object"] == customer.to_dict()


def test_deauthorization_event(sandbox, account, receiver):
    sandbox.deauthorize(account)
    sandbox.wait_for_deliveries_idle()
    (event,) = _events(receiver)
    assert event["type"] == "account.application.deauthorized"
    assert event["account"] == account
    assert event["data"]["object"] == {
        "id": sandbox.client_id,
        "object": "application",
        "name": "ShingleAI Customers",
    }


def test_failed_deliveries_are_retried_with_backoff(sandbox, client, account, receiver, wait_until):
    sandbox.configure(webhook_retry_base_ms=20)
    receiver.statuses = [500, 503]
    client.v1.customers.create({"name": "Retry"}, {"stripe_account": account})
    wait_until(lambda: len(receiver.received) == 3)
    sandbox.wait_for_deliveries_idle()
    attempts = [(d["attempt"], d["status"], d["outcome"]) for d in sandbox.deliveries()]
    assert attempts == [(1, 500, "retrying"), (2, 503, "retrying"), (3, 200, "delivered")]
    assert len(set(receiver.bodies())) == 1  # the same event each time


def test_gives_up_after_max_attempts(sandbox, client, account, receiver, wait_until):
    sandbox.configure(webhook_retry_base_ms=5, webhook_max_attempts=2)
    receiver.statuses = [500] * 5
    client.v1.customers.create({"name": "Never"}, {"stripe_account": account})
    wait_until(lambda: any(d["outcome"] == "failed" for d in sandbox.deliveries()))
    sandbox.wait_for_deliveries_idle()
    assert len(receiver.received) == 2


def test_events_list_filters_by_type_and_pages(client, account):
    opts = {"stripe_account": account}
    ids = [client.v1.customers.create({"name": f"C{i}"}, opts).id for i in range(5)]
    client.v1.customers.update(ids[0], {"name": "changed"}, opts)
    everything = client.v1.events.list({"limit": 2}, opts)
    assert everything.url == "/v1/events" and everything.has_more
    assert [e.type for e in everything.auto_paging_iter()] == ["customer.updated"] + [
        "customer.created"
    ] * 5
    created = client.v1.events.list({"type": "customer.created", "limit": 100}, opts)
    assert [e.data.object.id for e in created.data] == ids[::-1]
    fetched = client.v1.events.retrieve(created.data[0].id, options=opts)
    assert fetched.id == created.data[0].id
