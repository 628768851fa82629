"""Faults appear at their configured rates (seeded RNG, serial requests: deterministic)."""

import json
import threading
import time

import pytest
import stripe

from stripe_sandbox.testing import SandboxServer

N = 300


def _outcomes(client, account, n=N):
    """What each of `n` serial list calls ended as: ok, or the exception class name."""
    seen = []
    for _ in range(n):
        try:
            client.v1.customers.list({"limit": 1}, {"stripe_account": account})
            seen.append("ok")
        except stripe.StripeError as exc:
            seen.append(type(exc).__name__)
    return seen


def test_error_rate_is_met_and_deterministic(sandbox, client, account):
    sandbox.configure(error_rate=0.2, seed=42)
    first = _outcomes(client, account)
    assert set(first) == {"ok", "APIError"}
    assert abs(first.count("APIError") / N - 0.2) < 0.06
    sandbox.configure(seed=42)
    assert _outcomes(client, account) == first


def test_drop_rate_cuts_connections(sandbox, client, account):
    sandbox.configure(drop_rate=0.1, seed=3)
    seen = _outcomes(client, account)
    assert set(seen) == {"ok", "APIConnectionError"}
    assert abs(seen.count("APIConnectionError") / N - 0.1) < 0.05


def test_library_retries_recover_from_5xx(sandbox, account):
    sandbox.configure(error_rate=0.3, seed=11)
    patient = sandbox.client(max_network_retries=5)
    assert set(_outcomes(patient, account, 8)) == {"ok"}


def test_latency_only_on_list_requests(sandbox, client, account):
    customer = client.v1.customers.create({"name": "Slow"}, {"stripe_account": account})
    # A latency far above any scheduling noise, so only a delayed retrieve can reach it.
    sandbox.configure(list_latency_ms=10_000)
    started = time.monotonic()
    client.v1.customers.retrieve(customer.id, options={"stripe_account": account})
    assert time.monotonic() - started < 5
    sandbox.configure(list_latency_ms=250)
    started = time.monotonic()
    client.v1.customers.list({}, {"stripe_account": account})
    assert time.monotonic() - started >= 0.25


def test_latency_does_not_block_other_requests(sandbox, client, account):
    # Served one after another, four 2 s delays would take 8 s.
    sandbox.configure(latency_ms=2000)
    threads = [
        threading.Thread(target=client.v1.customers.list, args=({}, {"stripe_account": account}))
        for _ in range(4)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 2 <= time.monotonic() - started < 6


def test_rate_limit_allows_exactly_the_budget(sandbox, client, account):
    sandbox.configure(rate_limit=25)
    started = time.monotonic()
    seen = _outcomes(client, account, 40)
    if time.monotonic() - started < 1.0:  # all in one window: the budget is exact
        assert seen == ["ok"] * 25 + ["RateLimitError"] * 15
    else:
        assert 25 <= seen.count("ok") < 40


def _create_many(client, account, n):
    opts = {"stripe_account": account}
    return [client.v1.customers.create({"name": f"W{i}"}, opts).id for i in range(n)]


def test_webhook_drop_rate(sandbox, client, account, receiver):
    sandbox.configure(webhook_drop_rate=0.3, seed=5)
    _create_many(client, account, 150)
    sandbox.wait_for_deliveries_idle()
    dropped = [d for d in sandbox.deliveries() if d["outcome"] == "dropped"]
    assert abs(len(dropped) / 150 - 0.3) < 0.1
    assert len(receiver.received) == 150 - len(dropped)


def test_webhook_duplicates_share_the_event_id(sandbox, client, account, receiver):
    sandbox.configure(webhook_duplicate_rate=0.4, seed=8)
    _create_many(client, account, 150)
    sandbox.wait_for_deliveries_idle()
    ids = [json.loads(body)["id"] for body in receiver.bodies()]
    assert len(set(ids)) == 150
    assert abs((len(ids) - 150) / 150 - 0.4) < 0.1


def test_webhook_reorder_delivers_everything_out_of_order(sandbox, client, account, receiver):
    sandbox.configure(webhook_reorder=True, webhook_reorder_window_ms=300, seed=1)
    created = _create_many(client, account, 30)
    sandbox.wait_for_deliveries_idle()
    arrived = [json.loads(body)["data"]["object"]["id"] for body in receiver.bodies()]
    assert sorted(arrived) == sorted(created)
    assert arrived != created


def test_webhooks_in_order_without_faults(sandbox, client, account, receiver):
    created = _create_many(client, account, 30)
    sandbox.wait_for_deliveries_idle()
    assert [json.loads(b)["data"]["object"]["id"] for b in receiver.bodies()] == created


def test_webhook_delay(sandbox, client, account, receiver, wait_until):
    sandbox.configure(webhook_delay_ms=300)
    started = time.monotonic()
    _create_many(client, account, 1)
    wait_until(lambda: receiver.received)
    assert time.monotonic() - started >= 0.3


def test_faults_can_be_set_at_start():
    with SandboxServer(error_rate=1.0) as server:
        account = server.create_account()
        assert server.configure()["error_rate"] == 1.0
        assert set(_outcomes(server.client(), account, 5)) == {"APIError"}


def test_seed_of_100k_spreads_created_dates(sandbox, client):
    """The seed's speed is measured by bench/sandbox_list.py, not asserted here."""
    account = sandbox.create_account(customers=100_000)
    page = client.v1.customers.list({"limit": 100}, {"stripe_account": account})
    assert len(page.data) == 100 and page.has_more
    assert sum(c.email is None for c in page.data) < 30  # most have an email
    year_before = page.data[0].created - 365 * 86400
    older = client.v1.customers.list(
        {"limit": 1, "created": {"lt": year_before}}, {"stripe_account": account}
    )
    assert older.data, "created dates should spread over years"


def test_unknown_setting_is_refused(sandbox):
    with pytest.raises(RuntimeError, match="unknown setting"):
        sandbox.configure(colour="blue")
