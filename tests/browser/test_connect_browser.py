"""Connect Stripe in a real Chromium: the owner goes to the sandbox's consent page and
back, cancels, meets a forged answer, loses access in Stripe and reconnects."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from models.customer import Customer
from models.import_run import ImportRun
from models.stripe_account import StripeAccount
from tests.test_connect_support import (  # noqa: F401  (fixtures)
    connect_app_fixture,
    imports_idle,
    wait_until,
)


def _to_stripe_consent(page, sandbox, button="Connect Stripe"):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Stripe").click()
    page.get_by_role("button", name=button).click()
    expect(page).to_have_url(re.compile(re.escape(f"{sandbox.url}/oauth/authorize")))


def _connect_new_account(page, sandbox, business, customers=3) -> str:
    _to_stripe_consent(page, sandbox)
    page.get_by_label("Demo customers").fill(str(customers))
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.locator(".flashes")).to_contain_text("Stripe is connected to Demo shop (acct_")
    return StripeAccount.for_business(business).account_id


def test_connect_through_the_sandbox_consent_page(logged_in_page, sandbox, business, live_server):
    page = logged_in_page
    account = _connect_new_account(page, sandbox, business)
    expect(page).to_have_url(f"{live_server.url}/stripe")
    expect(page.locator("#stripe-link")).to_contain_text(account)
    expect(page.get_by_role("link", name="Disconnect…")).to_be_visible()
    assert ImportRun.latest_for(business).reason == "connect"
    wait_until(imports_idle)
    assert Customer.for_business(business).count() == 3


def test_cancel_on_the_consent_page(logged_in_page, sandbox, business):
    page = logged_in_page
    _to_stripe_consent(page, sandbox)
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Connecting Stripe was cancelled.")).to_be_visible()
    expect(page.get_by_role("button", name="Connect Stripe")).to_be_visible()
    assert StripeAccount.for_business(business) is None


def test_a_forged_answer_is_refused(logged_in_page, live_server, business):
    page = logged_in_page
    page.goto(f"{live_server.url}/stripe/callback?state=forged&code=ac_forged")
    expect(page.get_by_role("alert")).to_contain_text("does not match a Connect Stripe click")
    assert StripeAccount.for_business(business) is None


def test_revoked_in_stripe_then_reconnected(
    logged_in_page, sandbox, sandbox_webhooks, business, live_server
):
    page = logged_in_page
    account = _connect_new_account(page, sandbox, business)
    wait_until(imports_idle)
    sandbox.deauthorize(account)  # the owner removes ShingleAI in Stripe's dashboard
    sandbox.wait_for_deliveries_idle()
    page.goto(f"{live_server.url}/customers")
    banner = page.locator("#stripe-banner")
    expect(banner).to_contain_text("Stripe disconnected")
    expect(page.locator("#customers-table")).to_contain_text(Customer.select().first().name)

    sandbox.seed(account, 2)  # changes made in Stripe while disconnected
    _to_stripe_consent(page, sandbox, button="Reconnect Stripe")
    page.locator(f"#acct-{account}").check()
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_text("Stripe is connected again to")).to_be_visible()
    expect(page.locator("#stripe-banner")).to_have_count(0)
    wait_until(imports_idle)
    stored = [c.stripe_customer_id for c in Customer.for_business(business)]
    assert len(stored) == len(set(stored)) == 5
