"""The support console in Chromium: support logs in, finds a business, views it,
replays a failed event, removes a customer deleted in Stripe and reads the audit log;
an owner removes their own deleted row after confirming."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from models import Customer, StripeAccount
from tests.browser.test_a11y import _serious
from tests.conftest import SUPPORT_EMAIL, SUPPORT_PASSWORD, make_customer
from tests.console_support import failed_event
from tests.webhooks_support import ACCOUNT, stripe_customer

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(business):
    """A linked business with a failed event and a customer deleted in Stripe."""
    StripeAccount.attach(business, ACCOUNT, livemode=False)
    make_customer(business, name="Lara Live", stripe_customer_id="cus_live")
    make_customer(
        business,
        name="Gina Gone",
        email="gina@example.com",
        stripe_customer_id="cus_gone",
        deleted_in_stripe_at=datetime(2026, 3, 1),
    )
    failed_event(stripe_customer("cus_R", name="Rita Replay"))
    return business


@pytest.fixture
def support_page(page, live_server, support_user):
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill(SUPPORT_EMAIL)
    page.get_by_label("Password").fill(SUPPORT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/support$"))
    return page


def test_support_finds_a_business_replays_removes_and_reads_the_audit_log(
    support_page, live_server, shop
):
    page = support_page
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Support")).to_be_visible()
    expect(nav.get_by_role("link", name="Customers")).to_have_count(0)
    expect(page.locator("#webhook-url")).to_have_text(f"{live_server.url}/webhooks/stripe")
    assert _serious(page) == []

    page.get_by_label(re.compile("Find a business")).fill("owner@example.com")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Shingle Roofing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Shingle Roofing")
    expect(page.locator("#support-link-state")).to_contain_text(ACCOUNT)
    expect(page.locator("#support-link-history")).to_contain_text("Connected")
    assert _serious(page) == []

    failed = page.locator("#support-events tr", has_text="cus_R")
    expect(failed).to_contain_text("Database unavailable: locked")
    failed.get_by_role("button", name=re.compile("Replay")).click()
    expect(page.locator(".flashes")).to_contain_text("Replayed customer.created")
    expect(page.locator("#support-events tr", has_text="cus_R")).to_contain_text("Applied")
    assert Customer.get(Customer.stripe_customer_id == "cus_R").name == "Rita Replay"

    page.get_by_role("link", name=re.compile("Deleted in Stripe")).click()
    rows = page.locator("#customers-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Gina Gone")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    page.get_by_role("link", name="Remove Gina Gone").click()
    expect(page.get_by_role("heading", name="Remove Gina Gone?")).to_be_visible()
    assert _serious(page) == []
    page.get_by_role("button", name="Remove customer").click()
    expect(page.locator(".flashes")).to_contain_text("Removed Gina Gone")
    expect(page.locator("#customers-table")).not_to_contain_text("Gina Gone")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    log = page.locator("table.audit-log")
    expect(log.locator("tr", has_text="Removed a customer deleted in Stripe")).to_contain_text(
        "Gina Gone"
    )
    expect(log.locator("tr", has_text="Replayed a failed webhook event")).to_contain_text("cus_R")
    removal = log.locator("tr", has_text="Removed a customer deleted in Stripe")
    removal.locator("summary").click()
    expect(removal).to_contain_text("gina@example.com")
    assert _serious(page) == []


def test_owner_removes_their_own_deleted_row_after_confirming(logged_in_page, live_server, shop):
    page = logged_in_page
    page.goto(f"{live_server.url}/customers")
    page.get_by_role("link", name="Remove Gina Gone").click()
    expect(page.get_by_role("heading", name="Remove Gina Gone?")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator("#customers-table")).to_contain_text("Gina Gone")

    page.get_by_role("link", name="Remove Gina Gone").click()
    page.get_by_role("button", name="Remove customer").click()
    expect(page.locator(".flashes")).to_contain_text("Removed Gina Gone from your list.")
    expect(page.locator("#customers-table")).not_to_contain_text("Gina Gone")
    expect(page.locator("#customers-table")).to_contain_text("Lara Live")
    expect(page.get_by_role("link", name=re.compile("Remove"))).to_have_count(0)
