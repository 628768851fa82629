""" "Sync now" runs a catch-up from Stripe's events as a sync check: live over htmx with
a readable result, from the CLI, one at a time with the scheduled catch-ups, and a gap
its events cannot cover starts a reconciliation at once, which closes the gap."""

from __future__ import annotations

import re
import time

from models.catch_up_state import CatchUpState
from models.import_run import SUCCEEDED
from models.sync_check import CATCH_UP, RECONCILE, SyncCheck
from sync import sync_now
from tests.catch_up_support import (  # noqa: F401  (the *_fixture names are fixtures)
    account_fixture,
    app_fixture,
    changes,
    live_fixture,
    live_rows,
    sandbox_fixture,
    stripe_state,
)
from tests.conftest import wait_until
from tests.import_support import link

HTMX = {"HX-Request": "true"}
DAY = 24 * 3600


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _finished(client, check_id: int) -> str:
    def done():
        answer = client.get(f"/sync-now/{check_id}?watching=1", headers=HTMX)
        body = answer.get_data(as_text=True)
        return body if "hx-trigger" not in body else None

    return _text(wait_until(done, timeout=30))


def test_sync_now_recovers_dropped_changes_and_says_how_many(
    app, sandbox, live, account, business, client, logged_in
):
    sandbox.configure(webhook_drop_rate=1.0)
    changes(sandbox, account)
    sandbox.wait_for_deliveries_idle()
    assert live_rows(business) == {}
    answer = client.post(
        "/sync-now", data={"kind": CATCH_UP}, headers={**HTMX, "X-CSRFToken": logged_in}
    )
    check = SyncCheck.get()
    assert check.kind == CATCH_UP and 'hx-trigger="every 1s"' in answer.get_data(as_text=True)

    text = _finished(client, check.id)
    check = check.refresh()
    assert check.status == SUCCEEDED and check.recovered >= 5
    assert f"Up to date: {check.recovered} changes recovered from Stripe." in text
    assert live_rows(business) == stripe_state(sandbox, account)
    assert CatchUpState.for_business(business.id).last_recovered == check.recovered

    client.post("/sync-now", data={"kind": CATCH_UP}, headers={**HTMX, "X-CSRFToken": logged_in})
    again = SyncCheck.select().order_by(SyncCheck.id.desc()).first()
    assert again.id != check.id
    assert "Up to date: nothing to recover." in _finished(client, again.id)


def test_cli_sync_now_prints_the_result(app, sandbox, live, account, business, runner):
    sandbox.configure(webhook_drop_rate=1.0)
    changes(sandbox, account)
    sandbox.wait_for_deliveries_idle()
    result = runner.invoke(args=["sync-now", "--email", "owner@example.com"])
    assert result.exit_code == 0, result.output
    check = SyncCheck.get()
    assert f"Up to date: {check.recovered} changes recovered from Stripe." in result.output
    assert live_rows(business) == stripe_state(sandbox, account)


def test_a_gap_starts_a_reconciliation_which_closes_it(app, sandbox, business, client, logged_in):
    account = sandbox.create_account(name="Gap shop", customers=30)
    link(business, account)
    CatchUpState.record_reconciled(business.id, account, int(time.time()) - 31 * DAY)
    client.post("/sync-now", data={"kind": CATCH_UP}, headers={**HTMX, "X-CSRFToken": logged_in})
    catch_up_check = SyncCheck.get(SyncCheck.kind == CATCH_UP)
    text = _finished(client, catch_up_check.id)
    assert "Stripe keeps only 30 days of changes" in text

    reconcile = wait_until(
        lambda: SyncCheck.get_or_none(
            (SyncCheck.kind == RECONCILE) & (SyncCheck.status == SUCCEEDED)
        ),
        timeout=30,
    )
    assert reconcile.reason == "gap" and reconcile.checked == 30
    assert live_rows(business) == stripe_state(sandbox, account)
    assert not CatchUpState.for_business(business.id).needs_reconcile
    assert sync_now.due(app.config) == []
