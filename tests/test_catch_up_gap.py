"""When catch-up cannot cover the time since its mark (older than Stripe's 30 days of
events, or no mark and no completed import), it says so and asks for a reconciliation;
a reconciliation or an import that began after the gap closes it."""

from __future__ import annotations

import time

from models import StripeAccount
from models.catch_up_state import CatchUpState
from models.import_run import ImportRun
from sync.catch_up import RETENTION, catch_up
from sync.stripe_client import account_options
from tests.catch_up_support import (  # noqa: F401  (the *_fixture names are fixtures)
    SECRET,
    app_fixture,
    live_rows,
    sandbox_fixture,
    stripe_state,
)

DAY = 24 * 3600


def _link(sandbox, business) -> str:
    account = sandbox.create_account(name="Gap shop")
    StripeAccount.create(business=business, account_id=account)
    return account


def test_a_mark_older_than_retention_is_a_gap(app, sandbox, business):
    account = _link(sandbox, business)
    # Our endpoint is unreachable: what Stripe still keeps is undelivered.
    sandbox.add_webhook_endpoint("http://127.0.0.1:9/webhooks/stripe", SECRET)
    CatchUpState.record_reconciled(business.id, account, int(time.time()) - 31 * DAY)
    sandbox.client().v1.customers.create({"name": "Recent"}, account_options(account))
    result = catch_up(business.id, app.config, trigger="test")
    assert result.gap and "30 days" in result.summary
    state = CatchUpState.for_business(business.id)
    assert state.needs_reconcile and state.gap_found_second is not None
    # What Stripe still keeps is applied all the same, and the mark moves up.
    assert live_rows(business) == stripe_state(sandbox, account)
    assert state.mark >= int(time.time()) - 60
    # The gap stays flagged until a reconciliation closes it.
    again = catch_up(business.id, app.config, trigger="test")
    assert not again.gap and CatchUpState.for_business(business.id).needs_reconcile
    CatchUpState.record_reconciled(business.id, account, int(time.time()))
    assert not CatchUpState.for_business(business.id).needs_reconcile


def test_no_mark_and_no_import_is_a_gap(app, sandbox, business):
    _link(sandbox, business)
    result = catch_up(business.id, app.config, trigger="test")
    assert result.gap and CatchUpState.for_business(business.id).needs_reconcile


def test_a_running_first_import_is_waited_for(app, sandbox, business):
    _link(sandbox, business)
    ImportRun.create(business=business, status="running")
    result = catch_up(business.id, app.config, trigger="test")
    assert result.waiting_for_import and not result.gap and result.requests == 0
    assert not CatchUpState.for_business(business.id).needs_reconcile
    assert "import" in result.summary


def test_a_completed_import_is_where_catch_up_starts(app, sandbox, business):
    account = _link(sandbox, business)
    started = int(time.time()) - 3600
    ImportRun.create(business=business, status="succeeded", stripe_started_at=started)
    old = sandbox.seed_event(account, "customer.created", started - 600)
    new = sandbox.seed_event(account, "customer.created", started + 10)
    result = catch_up(business.id, app.config, trigger="test")
    assert not result.gap and result.listed == 1
    assert set(live_rows(business)) != set() and result.recovered == 1
    assert old != new


def test_an_import_after_the_gap_closes_it(app, sandbox, business):
    account = _link(sandbox, business)
    CatchUpState.record_reconciled(business.id, account, int(time.time()) - RETENTION - DAY)
    assert catch_up(business.id, app.config, trigger="test").gap
    ImportRun.create(business=business, status="succeeded", stripe_started_at=int(time.time()))
    catch_up(business.id, app.config, trigger="test")
    assert not CatchUpState.for_business(business.id).needs_reconcile


def test_a_switch_starts_the_new_account_afresh(app, sandbox, business):
    old = _link(sandbox, business)
    CatchUpState.record_reconciled(business.id, old, int(time.time()))
    new = sandbox.create_account(name="New shop")
    StripeAccount.update(account_id=new).execute()
    result = catch_up(business.id, app.config, trigger="test")
    assert result.gap  # the old account's mark says nothing about the new one
    assert CatchUpState.for_business(business.id).account_id == new


def test_an_import_running_when_the_gap_was_found_closes_it(app, sandbox, business):
    """A reconnect after 31 days: a catch-up during the import flags the gap, and the
    import, which began after the oldest event Stripe still kept, closes it."""
    account = _link(sandbox, business)
    CatchUpState.record_reconciled(business.id, account, int(time.time()) - 31 * DAY)
    run = ImportRun.create(business=business, status="running")
    assert catch_up(business.id, app.config, trigger="test").gap
    ImportRun.update(status="succeeded", stripe_started_at=int(time.time()) - 5).where(
        ImportRun.id == run.id
    ).execute()
    assert not catch_up(business.id, app.config, trigger="import").gap
    assert not CatchUpState.for_business(business.id).needs_reconcile
