"""When catch-up runs: the periodic sweep queues due links, a starting consumer
catches up at once, a succeeded import is followed by a catch-up, a silent endpoint
with events in Stripe makes it run sooner; one catch-up per business at a time."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from models import StripeAccount
from models.catch_up_state import CatchUpState
from models.import_run import ImportRun
from models.user import utcnow
from models.webhook_event import WebhookEvent
from sync import catch_up_jobs, import_jobs
from sync.catch_up import catch_up_unless_running
from sync.webhook_health import endpoint_silent, health_for
from tests.catch_up_support import QUICK, live_rows, stripe_state
from tests.conftest import make_test_app, wait_until
from tests.import_support import sandbox as sandbox
from tests.webhooks_support import SECRET, make_event, stripe_customer


def _app(tmp_path, sandbox, **config):
    settings = {**QUICK, "SYNC_CATCH_UP_EVERY": 300, **config}
    return make_test_app(
        tmp_path, STRIPE_SANDBOX_URL=sandbox.url, STRIPE_WEBHOOK_SECRET=SECRET, **settings
    )


@pytest.fixture
def app(tmp_path, sandbox):
    return _app(tmp_path, sandbox)


@pytest.fixture
def account(app, sandbox, business) -> str:
    account = sandbox.create_account(name="Scheduled shop")
    StripeAccount.create(business=business, account_id=account)
    CatchUpState.record_reconciled(business.id, account, int(time.time()) - 60)
    return account


def _ran(business, trigger: str):
    return lambda: CatchUpState.for_business(business.id).last_trigger == trigger


def _ago(seconds: float):
    return utcnow() - timedelta(seconds=seconds)


def test_the_sweep_queues_links_that_are_due(app, account, business):
    assert catch_up_jobs.sweep() == {business.id: "periodic"}
    wait_until(_ran(business, "periodic"))
    assert catch_up_jobs.sweep() == {}  # just caught up: not due for 300 s


def test_disconnected_links_are_not_swept(app, account, business):
    StripeAccount.for_business(business).mark_disconnected("gone")
    assert catch_up_jobs.sweep() == {}


def test_every_zero_turns_periodic_catch_up_off(tmp_path, sandbox, business):
    _app(tmp_path, sandbox, SYNC_CATCH_UP_EVERY=0)
    StripeAccount.create(business=business, account_id="acct_1Off")
    assert catch_up_jobs.sweep(startup=True) == {}


def test_a_link_due_again_after_the_interval(app, account, business):
    CatchUpState.update(last_run_at=_ago(301)).execute()
    assert catch_up_jobs.sweep() == {business.id: "periodic"}


def test_a_start_up_sweep_takes_links_not_caught_up_within_a_minute(app, account, business):
    CatchUpState.update(last_run_at=_ago(120)).execute()
    assert catch_up_jobs.sweep() == {}
    assert catch_up_jobs.sweep(startup=True) == {business.id: "startup"}


def test_a_starting_app_catches_up_at_once(tmp_path, sandbox, app, account, business):
    CatchUpState.update(last_run_at=_ago(120)).execute()
    _app(tmp_path, sandbox)  # a restart: a new app, and consumer, on the same database
    wait_until(_ran(business, "startup"))


def test_a_succeeded_import_is_followed_by_a_catch_up(app, sandbox, account, business):
    sandbox.seed(account, 30)
    run = import_jobs.start_import(business.id, config=app.config, reason="reconnect")
    wait_until(lambda: ImportRun.get_by_id(run.id).status == "succeeded")
    wait_until(_ran(business, "import"))
    assert live_rows(business) == stripe_state(sandbox, account)


def test_a_silent_endpoint_with_events_in_stripe_runs_sooner(app, account, business):
    CatchUpState.update(last_run_at=_ago(90), last_recovered=4).execute()
    # The panel first: the catch-up the sweep queues may run at once and reset the state.
    health = health_for(business, stale_after=60)
    assert any("not arriving by webhook" in check.message for check in health.checks)
    assert catch_up_jobs.sweep() == {business.id: "silent"}


def test_a_recent_delivery_means_the_endpoint_is_not_silent(app, account, business):
    CatchUpState.update(last_run_at=_ago(90), last_recovered=4).execute()
    event = make_event("customer.created", stripe_customer(), account=account)
    WebhookEvent.record(
        {
            "event_id": event["id"],
            "type": event["type"],
            "account_id": account,
            "livemode": False,
            "created": event["created"],
            "stripe_customer_id": "cus_1",
            "payload": "{}",
            "business": business.id,
            "error": None,
            "outcome": "applied",
        }
    )
    assert catch_up_jobs.sweep() == {}


@pytest.mark.parametrize(
    ("recovered", "minutes_since_delivery", "silent"),
    [(0, None, False), (0, 60, False), (3, None, True), (3, 6, True), (3, 2, False)],
    ids=["quiet-never", "quiet-hour", "recovering-never", "recovering-6min", "recovering-2min"],
)
def test_endpoint_silent(recovered, minutes_since_delivery, silent):
    now = utcnow()
    last = (
        None if minutes_since_delivery is None else now - timedelta(minutes=minutes_since_delivery)
    )
    assert endpoint_silent(recovered, last, now) is silent


def test_one_catch_up_per_business_at_a_time(app, account, business):
    token = CatchUpState.claim(business.id)
    assert token is not None and CatchUpState.claim(business.id) is None
    assert catch_up_unless_running(business.id, app.config, trigger="periodic") is None
    CatchUpState.finish(business.id, token)
    assert catch_up_unless_running(business.id, app.config, trigger="periodic") is not None


def test_a_claim_whose_heartbeat_stopped_is_taken_over(app, account, business):
    assert CatchUpState.claim(business.id) is not None
    CatchUpState.update(running_at=_ago(121)).execute()
    taken = CatchUpState.claim(business.id)
    assert taken is not None and CatchUpState.beat(business.id, taken)
