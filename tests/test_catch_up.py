"""Catch-up from Stripe's events, end to end against a sandbox that delivers to the app
over real HTTP: dropped deliveries and an endpoint outage are recovered, each event is
recorded once, at most one list request per 100 events."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
import stripe

from models.catch_up_state import CatchUpState
from models.webhook_event import WebhookEvent
from sync import catch_up as catch_up_module
from sync.catch_up import NotConnected, catch_up
from sync.stripe_client import account_options
from tests.catch_up_support import (  # noqa: F401  (the *_fixture names are fixtures)
    account_fixture,
    app_fixture,
    changes,
    live_fixture,
    live_rows,
    recorded_once,
    request_bound,
    sandbox_fixture,
    stripe_event_ids,
    stripe_state,
)
from tests.conftest import wait_until


def test_recovers_dropped_deliveries(app, sandbox, live, account, business):
    sandbox.configure(webhook_drop_rate=1.0)
    changes(sandbox, account)
    sandbox.wait_for_deliveries_idle()
    assert live_rows(business) == {}  # nothing arrived
    events = stripe_event_ids(sandbox, account)
    result = catch_up(business.id, app.config, trigger="test")
    assert live_rows(business) == stripe_state(sandbox, account)
    assert recorded_once(events)
    assert result.listed == len(events) == 9
    # A change that a same-second fetch already brought is recorded, not "recovered".
    assert result.recovered + result.unchanged == 9 and result.recovered >= 5
    assert result.already_recorded == 0 and not result.gap
    assert result.requests <= request_bound(len(events))
    assert result.summary == f"Up to date: {result.recovered} changes recovered from Stripe."
    state = CatchUpState.for_business(business.id)
    assert (state.last_recovered, state.total_recovered) == (result.recovered,) * 2
    assert state.last_listed == 9
    assert state.last_trigger == "test" and state.last_run_at is not None
    assert WebhookEvent.select().where(WebhookEvent.recovered).count() == 9


def test_a_second_run_applies_nothing_again(app, sandbox, live, account, business):
    sandbox.configure(webhook_drop_rate=1.0)
    changes(sandbox, account)
    first = catch_up(business.id, app.config, trigger="test")
    again = catch_up(business.id, app.config, trigger="test")
    assert first.recovered >= 5
    assert again.recovered == 0 and again.already_recorded == again.listed
    assert again.summary == "Up to date: nothing was missing."
    assert CatchUpState.for_business(business.id).total_recovered == first.recovered


def test_delivered_events_are_not_applied_again(app, sandbox, live, account, business):
    changes(sandbox, account)
    sandbox.wait_for_deliveries_idle()
    events = stripe_event_ids(sandbox, account)
    wait_until(lambda: WebhookEvent.select().count() == len(events))
    result = catch_up(business.id, app.config, trigger="test")
    assert result.recovered == 0 and result.already_recorded == len(events)
    assert WebhookEvent.select().where(WebhookEvent.recovered).count() == 0


@pytest.mark.parametrize("trigger", ["periodic", "silent"])
def test_frequent_runs_list_only_what_stripe_could_not_deliver(
    app, sandbox, live, account, business, trigger
):
    """``delivery_success=false``: an account whose webhooks all arrived costs the
    periodic run one request and lists nothing; a dropped delivery is listed."""
    changes(sandbox, account)
    sandbox.wait_for_deliveries_idle()
    events = stripe_event_ids(sandbox, account)
    wait_until(lambda: WebhookEvent.select().count() == len(events))
    result = catch_up(business.id, app.config, trigger=trigger)
    assert (result.listed, result.recovered, result.requests) == (0, 0, 1)
    sandbox.configure(webhook_drop_rate=1.0)
    client, options = sandbox.client(), account_options(account)
    for name in ("Lost one", "Lost two"):
        client.v1.customers.create({"name": name}, options)
    result = catch_up(business.id, app.config, trigger=trigger)
    assert (result.listed, result.recovered) == (2, 2)
    assert live_rows(business) == stripe_state(sandbox, account)


def test_one_request_per_hundred_events(app, sandbox, live, account, business):
    sandbox.configure(webhook_drop_rate=1.0)
    client, options = sandbox.client(), account_options(account)
    for i in range(250):
        client.v1.customers.create({"name": f"Bulk {i}"}, options)
    result = catch_up(business.id, app.config, trigger="test")
    assert result.listed == 250 and result.recovered == 250
    assert result.requests == 3 <= request_bound(250)
    assert len(live_rows(business)) == 250


def test_rate_limits_are_waited_out(app, sandbox, live, account, business):
    sandbox.configure(webhook_drop_rate=1.0)
    client, options = sandbox.client(), account_options(account)
    for i in range(9):
        client.v1.customers.create({"name": f"Paced {i}"}, options)
    sandbox.configure(rate_limit=1)
    for _ in range(3):  # spend the second's budget: the first list request gets a 429
        with contextlib.suppress(stripe.RateLimitError):
            client.v1.customers.list({"limit": 1}, options)
    patient = {**app.config, "IMPORT_BACKOFF": 0.4}  # back-offs that outlast the window
    result = catch_up(business.id, patient, trigger="test")
    assert result.recovered == 9 and result.requests >= 2
    sandbox.configure(rate_limit=None)
    assert live_rows(business) == stripe_state(sandbox, account)


def test_endpoint_outage_then_catch_up(app, sandbox, live, account, business):
    sandbox.configure(webhook_endpoint_down_s=60)
    changes(sandbox, account, n=6)
    sandbox.wait_for_deliveries_idle()
    failed = [d for d in sandbox.deliveries() if d["outcome"] == "failed"]
    assert failed and all("endpoint down" in d["error"] for d in failed)
    assert WebhookEvent.select().count() == 0
    result = catch_up(business.id, app.config, trigger="test")
    assert live_rows(business) == stripe_state(sandbox, account)
    assert result.recovered + result.unchanged == result.listed == 10


def test_concurrent_deliveries_and_catch_ups_record_each_event_once(
    app, sandbox, live, account, business
):
    """Deliveries arrive while two catch-ups run: every event has one row, and what
    the catch-ups say they recovered is exactly what catch-up recorded."""
    sandbox.configure(webhook_drop_rate=0.5, webhook_duplicate_rate=0.5, seed=3)
    client, options = sandbox.client(), account_options(account)
    ids = [client.v1.customers.create({"name": f"R{i}"}, options).id for i in range(30)]
    sandbox.configure(webhook_drop_rate=0.0, webhook_reorder=True, webhook_delay_ms=50)
    results = []

    def run() -> None:
        results.append(catch_up(business.id, app.config, trigger="test"))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for i, cid in enumerate(ids):
        client.v1.customers.update(cid, {"name": f"R{i} final"}, options)
    for thread in threads:
        thread.join()
    sandbox.wait_for_deliveries_idle(timeout=30)
    catch_up(business.id, app.config, trigger="test")
    events = stripe_event_ids(sandbox, account)
    assert recorded_once(events)
    assert live_rows(business) == stripe_state(sandbox, account)
    by_catch_up = WebhookEvent.select().where(WebhookEvent.recovered).count()
    total = CatchUpState.for_business(business.id).total_recovered
    applied_by_catch_up = (
        WebhookEvent.select()
        .where(WebhookEvent.recovered & (WebhookEvent.outcome == "applied"))
        .count()
    )
    assert by_catch_up >= 1 and total == applied_by_catch_up
    assert len(results) == 2


def test_overlap_relists_the_minute_below_the_mark(app, sandbox, live, account, business):
    client, options = sandbox.client(), account_options(account)
    cid = client.v1.customers.create({"name": "Overlap"}, options).id
    sandbox.wait_for_deliveries_idle()
    mark = int(time.time()) - 10
    CatchUpState.update(mark=mark).execute()
    inside = sandbox.seed_event(account, "customer.updated", mark - 30, customer=cid)
    below = sandbox.seed_event(account, "customer.updated", mark - 200, customer=cid)
    result = catch_up(business.id, app.config, trigger="test")
    assert WebhookEvent.get_or_none(WebhookEvent.event_id == inside) is not None
    assert WebhookEvent.get_or_none(WebhookEvent.event_id == below) is None
    assert result.listed == 2  # the creation and the update inside the overlap


def test_mark_moves_up_to_the_listing(app, sandbox, live, account, business):
    before = CatchUpState.for_business(business.id).mark
    sandbox.configure(webhook_drop_rate=1.0)
    changes(sandbox, account)
    result = catch_up(business.id, app.config, trigger="test")
    newest = sandbox.client().v1.events.list({}, account_options(account)).data[0].created
    state = CatchUpState.for_business(business.id)
    assert state.mark == result.mark and state.mark >= newest > before
    assert state.account_id == account
    # A later run starts from the new mark: events from before it are not listed again.
    old = sandbox.seed_event(account, "customer.created", before - 30)
    again = catch_up(business.id, app.config, trigger="test")
    assert WebhookEvent.get_or_none(WebhookEvent.event_id == old) is None
    assert again.listed <= result.listed


def test_mark_never_passes_an_event_that_failed():
    listing = catch_up_module.Listing(
        events=[{"created": 100}, {"created": 140}], started_second=150
    )
    ok = catch_up_module.CatchUpResult()
    assert catch_up_module._new_mark(90, listing, ok) == 150
    failed = catch_up_module.CatchUpResult(oldest_failed=120)
    assert catch_up_module._new_mark(90, listing, failed) == 120


def test_a_disconnected_link_cannot_catch_up(app, sandbox, account, business):
    from models import StripeAccount

    StripeAccount.for_business(business).mark_disconnected("gone")
    with pytest.raises(NotConnected):
        catch_up(business.id, app.config, trigger="test")
    assert not CatchUpState.for_business(business.id).is_running


def test_access_revoked_in_stripe_disconnects_the_link(app, sandbox, account, business):
    from models import StripeAccount

    sandbox.deauthorize(account)
    with pytest.raises(NotConnected):
        catch_up(business.id, app.config, trigger="test")
    link = StripeAccount.for_business(business)
    assert not link.is_connected and "Stripe refused" in link.disconnect_reason
    state = CatchUpState.for_business(business.id)
    assert "reconnect" in state.last_error and not state.is_running
