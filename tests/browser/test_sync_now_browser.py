""" "Sync now" in a real Chromium: "Check every customer" states its cost before it
runs, reports its result live on the Customers list and refreshes the table; with
Stripe disconnected the button is disabled and says why."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from models import StripeAccount
from models.catch_up_state import CatchUpState
from sync.reconcile import list_requests
from sync.stripe_client import account_options
from tests.import_support import app, link, sandbox
from tests.reconcile_support import drift, imported_account

__all__ = ["app", "sandbox"]


def test_check_every_customer_shows_its_cost_then_its_result(
    app, sandbox, business, logged_in_page, live_server
):
    account = imported_account(app, sandbox, business, 250)
    drift(sandbox, account, business)
    page = logged_in_page
    page.goto(f"{live_server.url}/customers")
    panel = page.locator("#sync-now")
    panel.locator("summary").click()  # opens "Check every customer"
    expect(panel.locator("#sync-full-cost")).to_contain_text(
        re.compile(rf"about {list_requests(248)} requests to Stripe, ~\d+ (s|min)")
    )
    panel.get_by_role("button", name="Check every customer").click()
    expect(panel).to_contain_text(
        "Checked 250 customers: 7 corrected, 2 marked deleted.", timeout=30_000
    )
    expect(panel).not_to_have_attribute("hx-trigger", re.compile("."))
    # The table refreshed itself: a row edited behind ShingleAI's back is Stripe's again.
    expect(page.locator("#customers-table")).not_to_contain_text("Edited behind its back")


def test_sync_now_recovers_changes_that_never_arrived(
    app, sandbox, business, logged_in_page, live_server
):
    app.config.update(SYNC_CATCH_UP_EVERY=0)  # no scheduled catch-up racing the click
    account = sandbox.create_account()
    link(business, account)
    CatchUpState.record_reconciled(business.id, account, int(time.time()) - 60)
    client, options = sandbox.client(), account_options(account)
    for name in ("Ann", "Bo"):  # this sandbox sends no webhooks: nothing arrives by itself
        client.v1.customers.create({"name": name, "email": f"{name}@x.example"}, options)
    page = logged_in_page
    page.goto(f"{live_server.url}/customers")
    panel = page.locator("#sync-now")
    panel.get_by_role("button", name="Sync now").click()
    expect(panel).to_contain_text("Up to date: 2 changes recovered from Stripe.")
    expect(page.locator("#customers-table")).to_contain_text("Ann")
    panel.get_by_role("button", name="Sync now").click()
    expect(panel).to_contain_text("Up to date: nothing to recover.")


def test_disconnected_sync_now_is_disabled_with_its_reason(
    app, sandbox, business, logged_in_page, live_server
):
    link(business, sandbox.create_account())
    StripeAccount.update(status="disconnected").execute()
    page = logged_in_page
    page.goto(f"{live_server.url}/stripe")
    panel = page.locator("#sync-now")
    expect(panel.get_by_role("button", name="Sync now")).to_be_disabled()
    expect(panel).to_contain_text("Stripe is disconnected")
