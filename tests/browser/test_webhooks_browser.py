"""End to end in a real Chromium: a change made in Stripe (the sandbox, through the
official library) reaches the open Customers list through a signed webhook, with no
reload; the Stripe page's health panel shows the events."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from models import StripeAccount
from sync.stripe_client import account_options
from tests.test_connect_support import connect_app_fixture

__all__ = ["connect_app_fixture"]  # the app, talking to the browser conftest's sandbox
pytestmark = pytest.mark.browser


@pytest.fixture
def account(sandbox_webhooks, business) -> str:
    """A connected account whose events the sandbox signs and posts to the live server."""
    account = sandbox_webhooks.create_account(name="Roof shop")
    StripeAccount.create(business=business, account_id=account)
    return account


def test_stripe_changes_show_in_the_open_list_without_reload(logged_in_page, sandbox, account):
    page = logged_in_page
    stripe = sandbox.client()
    options = account_options(account)
    created = stripe.v1.customers.create(
        {"name": "Wren Webhook", "email": "wren@example.com"}, options
    )
    expect(page.get_by_role("cell", name="Wren Webhook", exact=True)).to_be_visible()
    stripe.v1.customers.update(created.id, {"name": "Wren Updated"}, options)
    expect(page.get_by_role("cell", name="Wren Updated", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="Wren Webhook", exact=True)).to_have_count(0)
    stripe.v1.customers.delete(created.id, options=options)
    row = page.get_by_role("row").filter(has_text="Wren Updated")
    expect(row).to_contain_text("Deleted")


def test_health_panel_lists_the_delivered_events(logged_in_page, live_server, sandbox, account):
    stripe = sandbox.client()
    customer = stripe.v1.customers.create({"name": "Panel Person"}, account_options(account))
    sandbox.wait_for_deliveries_idle()
    page = logged_in_page
    page.goto(f"{live_server.url}/stripe")
    panel = page.locator("#sync-health")
    expect(panel).to_contain_text("Sync is healthy.")
    expect(panel.locator("#health-recent")).to_contain_text(customer.id)
    expect(panel.locator("#health-counts")).to_contain_text("customer.created")
    # The endpoint to configure is for operators: the support console shows it.
    expect(panel.locator("#webhook-url")).to_have_count(0)
