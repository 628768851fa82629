"""`GET /v1/events` and `/v1/events/{id}` through the official library, as Stripe
documents them: `type` with `*`, `types` (up to 20), `created`, `delivery_success`,
cursors, newest first, 30-day retention, Stripe's errors; and the endpoint-down fault."""

from __future__ import annotations

import time

import pytest
import requests
import stripe

DAY = 24 * 3600


@pytest.fixture
def opts(account):
    return {"stripe_account": account}


def _types(listing):
    return [event.type for event in listing.data]


def _changes(client, opts):
    """Two customer.created, customer.tax_id.created, customer.updated, customer.deleted."""
    first = client.v1.customers.create({"name": "One"}, opts)
    second = client.v1.customers.create({"name": "Two"}, opts)
    client.v1.customers.tax_ids.create(first.id, {"type": "eu_vat", "value": "DE123456789"}, opts)
    client.v1.customers.update(first.id, {"name": "One again"}, opts)
    client.v1.customers.delete(second.id, options=opts)
    return first, second


def test_newest_first_with_url_and_has_more(client, opts):
    _changes(client, opts)
    listing = client.v1.events.list({"limit": 3}, opts)
    assert listing.object == "list" and listing.url == "/v1/events" and listing.has_more
    assert _types(listing) == ["customer.deleted", "customer.updated", "customer.tax_id.created"]
    assert all(isinstance(e.created, int) for e in listing.data)


def test_default_limit_is_ten(client, opts):
    for i in range(12):
        client.v1.customers.create({"name": f"C{i}"}, opts)
    listing = client.v1.events.list({}, opts)
    assert len(listing.data) == 10 and listing.has_more


def test_type_wildcard_takes_the_whole_group(client, opts):
    _changes(client, opts)
    everything = _types(client.v1.events.list({"type": "customer.*", "limit": 100}, opts))
    assert everything == [
        "customer.deleted",
        "customer.updated",
        "customer.tax_id.created",
        "customer.created",
        "customer.created",
    ]
    tax = _types(client.v1.events.list({"type": "customer.tax_id.*"}, opts))
    assert tax == ["customer.tax_id.created"]


def test_type_exact_name(client, opts):
    _changes(client, opts)
    assert _types(client.v1.events.list({"type": "customer.updated"}, opts)) == ["customer.updated"]


def test_types_array_takes_exact_names(client, opts):
    _changes(client, opts)
    listing = client.v1.events.list({"types": ["customer.deleted", "customer.created"]}, opts)
    assert _types(listing) == ["customer.deleted", "customer.created", "customer.created"]
    # A wildcard is only `type`'s: in `types` it is a name no event has.
    assert _types(client.v1.events.list({"types": ["customer.*"]}, opts)) == []


def test_types_as_curl_sends_them(sandbox, client, opts, account):
    _changes(client, opts)
    resp = requests.get(
        f"{sandbox.url}/v1/events?types[]=customer.updated&types[]=customer.deleted",
        auth=(sandbox.api_key, ""),
        headers={"Stripe-Account": account},
        timeout=10,
    )
    assert [e["type"] for e in resp.json()["data"]] == ["customer.deleted", "customer.updated"]


def test_more_than_twenty_types_is_refused(client, opts):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.events.list({"types": [f"customer.t{i}" for i in range(21)]}, opts)
    assert info.value.http_status == 400 and info.value.param == "types"
    client.v1.events.list({"types": [f"customer.t{i}" for i in range(20)]}, opts)


def test_type_and_types_together_is_refused(client, opts):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.events.list({"type": "customer.*", "types": ["customer.created"]}, opts)
    assert info.value.param == "types"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"created": {"gte": "soon"}}, "created[gte]"),
        ({"created": {"after": 1}}, "created[after]"),
        ({"delivery_success": "maybe"}, "delivery_success"),
        ({"colour": "blue"}, "colour"),
        ({"starting_after": "evt_a", "ending_before": "evt_b"}, "starting_after"),
        ({"starting_after": "evt_unknown"}, "starting_after"),
    ],
    ids=[
        "limit-0",
        "limit-101",
        "created-text",
        "created-key",
        "delivery",
        "unknown",
        "both",
        "gone",
    ],
)
def test_bad_parameters_get_stripes_error(client, opts, params, param):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.events.list(params, opts)
    assert info.value.http_status in (400, 404) and info.value.param == param
    assert info.value.json_body["error"]["type"] == "invalid_request_error"


def test_created_filters(sandbox, client, opts, account):
    now = int(time.time())
    old = [sandbox.seed_event(account, "customer.created", now - k * 100) for k in (3, 2, 1)]
    assert [e.id for e in client.v1.events.list({"created": now - 200}, opts).data] == [old[1]]
    gte = client.v1.events.list({"created": {"gte": now - 200}}, opts)
    assert [e.id for e in gte.data] == [old[2], old[1]]
    gt = client.v1.events.list({"created": {"gt": now - 200}}, opts)
    assert [e.id for e in gt.data] == [old[2]]
    window = client.v1.events.list({"created": {"gte": now - 300, "lt": now - 100}}, opts)
    assert [e.id for e in window.data] == [old[1], old[0]]
    lte = client.v1.events.list({"created": {"lte": now - 200}}, opts)
    assert [e.id for e in lte.data] == [old[1], old[0]]


def test_cursors_walk_both_ways(client, opts):
    for i in range(7):
        client.v1.customers.create({"name": f"C{i}"}, opts)
    everything = [e.id for e in client.v1.events.list({"limit": 100}, opts).data]
    forward, after = [], None
    while True:
        page = client.v1.events.list(
            {"limit": 3, **({"starting_after": after} if after else {})}, opts
        )
        forward += [e.id for e in page.data]
        if not page.has_more:
            break
        after = page.data[-1].id
    assert forward == everything
    newer = client.v1.events.list({"ending_before": everything[4], "limit": 2}, opts)
    assert [e.id for e in newer.data] == everything[2:4] and newer.has_more
    assert [e.id for e in client.v1.events.list({}, opts).auto_paging_iter()] == everything


def test_events_older_than_thirty_days_are_gone(sandbox, client, opts, account):
    now = int(time.time())
    expired = sandbox.seed_event(account, "customer.created", now - 31 * DAY)
    kept = sandbox.seed_event(account, "customer.created", now - 29 * DAY)
    listed = [e.id for e in client.v1.events.list({"created": {"gte": now - 40 * DAY}}, opts)]
    assert listed == [kept]
    assert client.v1.events.retrieve(kept, options=opts).id == kept
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.events.retrieve(expired, options=opts)
    assert info.value.http_status == 404 and info.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.events.list({"starting_after": expired}, opts)


def test_every_change_is_an_event_of_its_account(sandbox, client, opts, account):
    other = sandbox.create_account(name="Other shop")
    client.v1.customers.create({"name": "Elsewhere"}, {"stripe_account": other})
    _changes(client, opts)
    sandbox.deauthorize(other)
    mine = _types(client.v1.events.list({"limit": 100}, opts))
    assert len(mine) == 5 and "account.application.deauthorized" not in mine
    with pytest.raises(stripe.PermissionError):  # revoked: its events are out of reach
        client.v1.events.list({}, {"stripe_account": other})


def test_retrieve_of_another_accounts_event_is_missing(sandbox, client, opts):
    other = sandbox.create_account(name="Other shop")
    client.v1.customers.create({"name": "Elsewhere"}, {"stripe_account": other})
    theirs = client.v1.events.list({}, {"stripe_account": other}).data[0].id
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.events.retrieve(theirs, options=opts)


def test_delivery_success_follows_deliveries(sandbox, client, opts, receiver, wait_until):
    sandbox.configure(webhook_retry_base_ms=5, webhook_max_attempts=2)
    client.v1.customers.create({"name": "Delivered"}, opts)
    sandbox.wait_for_deliveries_idle()
    receiver.statuses = [500, 500]
    client.v1.customers.create({"name": "Failed"}, opts)
    sandbox.wait_for_deliveries_idle()
    sandbox.configure(webhook_drop_rate=1.0)
    client.v1.customers.create({"name": "Dropped"}, opts)
    names = lambda listing: [e.data.object.name for e in listing.data]  # noqa: E731
    assert names(client.v1.events.list({"delivery_success": True}, opts)) == ["Delivered"]
    assert names(client.v1.events.list({"delivery_success": False}, opts)) == [
        "Dropped",
        "Failed",
    ]


def test_endpoint_down_fails_deliveries_then_retries_resume(
    sandbox, client, opts, receiver, wait_until
):
    sandbox.configure(webhook_retry_base_ms=200, webhook_max_attempts=8)
    sandbox.configure(webhook_endpoint_down_s=0.5)
    client.v1.customers.create({"name": "During the outage"}, opts)
    wait_until(lambda: any(d["outcome"] == "delivered" for d in sandbox.deliveries()))
    log = sandbox.deliveries()
    assert log[0]["outcome"] == "retrying" and "endpoint down" in log[0]["error"]
    assert log[-1]["outcome"] == "delivered" and log[-1]["attempt"] > 1
    assert len(receiver.received) == 1  # nothing reached the endpoint while it was down


def test_endpoint_down_longer_than_the_retries_loses_the_event(sandbox, client, opts, receiver):
    sandbox.configure(webhook_retry_base_ms=5, webhook_max_attempts=3, webhook_endpoint_down_s=60)
    client.v1.customers.create({"name": "Lost"}, opts)
    sandbox.wait_for_deliveries_idle()
    assert [d["outcome"] for d in sandbox.deliveries()] == ["retrying", "retrying", "failed"]
    assert receiver.received == []
    assert len(client.v1.events.list({"delivery_success": False}, opts).data) == 1


def test_seeded_events_are_not_delivered(sandbox, account, receiver):
    sandbox.seed_event(account, "customer.updated", int(time.time()) - DAY)
    sandbox.wait_for_deliveries_idle()
    assert receiver.received == []
