"""The customer page in Chromium: a row opens it as a side panel (htmx, URL pushed),
Back closes it, reload and direct load keep it open beside the list, Close returns to
the list, it works as a plain link without JavaScript, and axe finds no serious issue."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from models.stripe_account import StripeAccount
from sync.customers import Change, apply_changes
from sync.ordering import Source, Version
from tests.browser.htmx_wait import settled
from tests.conftest import PASSWORD, make_customer

pytestmark = pytest.mark.browser

OBJECT = {
    "id": "cus_PANEL",
    "object": "customer",
    "created": 1_700_000_000,
    "name": "Pia Panel",
    "email": "pia@example.com",
    "phone": "+44 20 7946 0001",
    "currency": "gbp",
    "balance": 2500,
    "metadata": {"crm_id": "CRM-00077"},
}


@pytest.fixture
def pia(business):
    StripeAccount.create(business=business, account_id="acct_PANEL")
    make_customer(business, name="Other Person", email="other@example.com", customer_since=1)
    apply_changes(business.id, [Change(OBJECT, Version(1_700_000_100, Source.EVENT))])


def panel(page):
    return page.locator("#customer-panel")


def open_list(page, live_server):
    page.goto(f"{live_server.url}/customers")
    page.evaluate("window.notReloaded = true")
    settled(page)


def test_a_row_opens_the_side_panel_and_back_closes_it(logged_in_page, live_server, pia):
    page = logged_in_page
    open_list(page, live_server)
    page.get_by_role("link", name="Pia Panel", exact=True).click()
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    expect(panel(page)).to_contain_text("+44 20 7946 0001")
    expect(panel(page)).to_contain_text("£25.00 owed")
    expect(page.locator("#customers-table")).to_contain_text("Other Person")  # list stays
    assert page.evaluate("window.notReloaded") is True  # swapped, not loaded
    expect(page.locator("#panel-title")).to_be_focused()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/customers$"))
    expect(panel(page).locator(".customer-panel")).to_have_count(0)
    page.go_forward()
    expect(panel(page)).to_contain_text("CRM-00077")


def test_reload_and_direct_load_keep_the_panel_open_beside_the_list(
    logged_in_page, live_server, pia
):
    page = logged_in_page
    open_list(page, live_server)
    page.get_by_label("Search by name or email").fill("pia")
    expect(page).to_have_url(re.compile(r"q=pia"))
    expect(page.locator("#customers-table tbody tr")).to_have_count(1)
    settled(page)
    page.get_by_role("link", name="Pia Panel", exact=True).click()
    expect(page).to_have_url(re.compile(r"/customers/\d+\?q=pia$"))
    expect(panel(page)).to_contain_text("+44 20 7946 0001")
    page.reload()
    expect(panel(page)).to_contain_text("+44 20 7946 0001")
    expect(page.locator("#customers-table tbody tr")).to_have_count(1)  # search kept
    expect(page.get_by_label("Search by name or email")).to_have_value("pia")
    settled(page)
    page.get_by_role("link", name="Close customer details").click()
    expect(page).to_have_url(re.compile(r"/customers\?q=pia$"))
    expect(panel(page).locator(".customer-panel")).to_have_count(0)


def test_filtering_the_list_closes_the_panel_with_its_url(logged_in_page, live_server, pia):
    page = logged_in_page
    open_list(page, live_server)
    page.get_by_role("link", name="Pia Panel", exact=True).click()
    expect(panel(page)).to_contain_text("+44 20 7946 0001")
    settled(page)
    page.get_by_role("link", name="Synced", exact=True).click()
    expect(page).to_have_url(re.compile(r"/customers\?sync=synced$"))
    expect(panel(page).locator(".customer-panel")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    page.go_back()
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    expect(panel(page)).to_contain_text("+44 20 7946 0001")


def test_open_in_stripe_points_at_the_sandbox_page(logged_in_page, live_server, pia, app):
    page = logged_in_page
    open_list(page, live_server)
    page.get_by_role("link", name="Pia Panel", exact=True).click()
    link = page.get_by_role("link", name=re.compile("Open in the Stripe sandbox"))
    expected = f"{app.config['STRIPE_SANDBOX_URL']}/accounts/acct_PANEL/customers/cus_PANEL"
    expect(link).to_have_attribute("href", expected)
    expect(link).to_have_attribute("target", "_blank")


def test_without_javascript_the_row_is_a_plain_link(browser, live_server, owner, pia):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server.url}/login")
        page.get_by_label("Email").fill("owner@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r"/customers"))
        page.get_by_role("link", name="Pia Panel", exact=True).click()
        expect(page).to_have_url(re.compile(r"/customers/\d+$"))
        expect(panel(page)).to_contain_text("+44 20 7946 0001")
        expect(page.locator("#customers-table")).to_contain_text("Other Person")
        page.get_by_role("link", name="Close customer details").click()
        expect(page).to_have_url(re.compile(r"/customers$"))
    finally:
        context.close()


def test_the_panel_has_no_serious_accessibility_problems(logged_in_page, live_server, pia):
    page = logged_in_page
    open_list(page, live_server)
    page.get_by_role("link", name="Pia Panel", exact=True).click()
    expect(panel(page)).to_contain_text("+44 20 7946 0001")
    results = Axe().run(page)
    serious = [
        f"{v['id']}: {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == []
