"""Issue 11's small things in Chromium: a pager at the bottom, a label on not-synced
rows, a red Problem badge distinct from Check, the API tokens page (Copy, one period,
a readable API reference, Status and Access), and the favicon."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from models.business import Business
from models.demo import seed_customers
from models.import_run import FAILED, ImportRun
from models.user import User
from models.webhook_event import WebhookEvent
from tests.conftest import make_customer

pytestmark = pytest.mark.browser


def test_a_pager_at_the_bottom_too(logged_in_page, live_server, business):
    seed_customers(business.id, 120)
    page = logged_in_page
    page.goto(f"{live_server.url}/customers")
    bottom = page.get_by_role("navigation", name="Pages (bottom)")
    expect(bottom).to_contain_text("1–50 of 120")  # noqa: RUF001
    bottom.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator("#customers-count")).to_have_text("51–100 of 120")  # noqa: RUF001
    expect(
        page.get_by_role("navigation", name="Pages (bottom)").get_by_role("link", name="← Previous")
    ).to_be_visible()


def test_not_synced_rows_are_labelled(logged_in_page, live_server, business):
    make_customer(business, name="Dora Direct")
    page = logged_in_page
    page.goto(f"{live_server.url}/customers")
    expect(page.locator("tr", has_text="Dora Direct").locator(".badge")).to_have_text("Not synced")


def test_problem_is_red_and_check_is_not(logged_in_page, live_server, business):
    from models.stripe_account import StripeAccount

    StripeAccount.attach(business, "acct_x", livemode=False, account_name="Shop")
    ImportRun.create(business=business, status=FAILED, last_error="Stripe said no.")
    WebhookEvent.create(
        event_id="evt_failed",
        type="customer.updated",
        business=business,
        account_id="acct_x",
        created=1_700_000_000,
        outcome="failed",
        payload="{}",
        next_replay_at=datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=5),
    )  # still being replayed: a warning ("Check"), not a problem
    page = logged_in_page
    page.goto(f"{live_server.url}/stripe")
    problem = page.locator("#health-checks .badge-problem")
    check = page.locator("#health-checks .badge-warning")
    expect(problem).to_have_text("Problem")
    expect(check.first).to_have_text("Check")  # a change that could not be applied
    red = problem.evaluate("e => getComputedStyle(e).color")
    assert red == "rgb(180, 35, 24)"
    assert check.first.evaluate("e => getComputedStyle(e).color") != red


def test_api_tokens_page_copy_reference_status_and_access(browser, live_server, owner):
    Business.update(name="Roofs Inc.").where(Business.is_primary).execute()
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login")
        page.get_by_label("Email").fill("owner@example.com")
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{live_server.url}/settings/api-tokens")
        intro = page.locator("main > p.muted").first
        expect(intro).to_contain_text("Roofs Inc.")
        assert "Inc.." not in intro.inner_text()
        page.get_by_label("Name").fill("CI job")
        page.get_by_role("button", name="Create token").click()
        secret = page.get_by_label("Your new token").input_value()
        page.get_by_role("button", name="Copy").click()
        expect(page.locator("#new-token-secret-status")).to_have_text("Copied.")
        assert page.evaluate("navigator.clipboard.readText()") == secret
        row = page.get_by_role("row", name=re.compile("CI job"))
        expect(row.locator('td[data-label="Access"]')).to_have_text("Read and write")
        expect(row.locator('td[data-label="Status"]')).to_have_text("Active")
        page.get_by_role("button", name="Revoke CI job").click()
        expect(row.locator('td[data-label="Status"]')).to_have_text("Revoked")

        page.get_by_role("link", name="API reference").click()
        expect(page.get_by_role("heading", name="Customers API reference")).to_be_visible()
        expect(page.locator("#createCustomer")).to_contain_text("POST /customers")
        expect(page.locator("#createCustomer")).to_contain_text("409")
        expect(page.locator("#listCustomers")).to_contain_text("not_synced")
        expect(page.locator("#api-reference-status")).not_to_contain_text("Could not")
    finally:
        context.close()


def test_the_favicon_is_linked_and_served(page, live_server):
    page.goto(f"{live_server.url}/login")
    href = page.locator('link[rel="icon"]').get_attribute("href")
    answer = page.request.get(f"{live_server.url}{href}")
    assert answer.ok and answer.headers["content-type"].startswith("image/svg+xml")


def test_the_time_zone_is_remembered_for_the_user(browser, live_server, owner):
    context = browser.new_context(timezone_id="Asia/Tokyo")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login")
        page.get_by_label("Email").fill("owner@example.com")
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("body")).to_have_attribute("data-time-zone", "Asia/Tokyo")
        assert User.get_by_id(owner.id).time_zone == "Asia/Tokyo"
    finally:
        context.close()
