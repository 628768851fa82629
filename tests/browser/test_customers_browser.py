"""The Customers list in Chromium: badges, filter and search without reload, history,
pages, inline edit, keyboard use, and isolation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from models.business import Business
from models.customer import Customer
from models.demo import seed_customers
from tests.browser.htmx_wait import settled
from tests.conftest import make_customer
from tests.customer_states import one_of_each_state

pytestmark = pytest.mark.browser


@pytest.fixture
def listed(logged_in_page, live_server, owner, business):
    """The owner's list with a synced, a direct and a deleted row, plus a row of the
    owner's other business that must never show."""
    one_of_each_state(business)
    side = Business.get((Business.owner == owner) & ~Business.is_primary)
    make_customer(side, name="Side Secret", email="side@example.com")
    logged_in_page.goto(f"{live_server.url}/customers")
    # Marks this document: it survives htmx swaps and disappears on a full load.
    logged_in_page.evaluate("window.notReloaded = true")
    return logged_in_page


def _rows(page):
    return page.locator("#customers-table tbody tr")


def test_badges_and_isolation(listed):
    expect(_rows(listed)).to_have_count(3)
    synced = listed.locator("tr", has_text="Sam Synced")
    expect(synced.locator(".badge")).to_have_text("Stripe")
    expect(synced.locator(".badge")).to_have_attribute("title", "cus_S1")
    expect(listed.locator("tr", has_text="Gus Gone").locator(".badge")).to_have_text(
        "Deleted in Stripe"
    )
    expect(listed.locator("tr", has_text="Dora Direct").locator(".badge")).to_have_text(
        "Not synced"
    )
    expect(listed.locator("tr", has_text="Sam Synced").locator("time")).to_have_text("Nov 14, 2023")
    expect(listed.get_by_text("Side Secret")).to_have_count(0)


def test_filter_swaps_the_table_updates_the_url_and_back_restores(listed):
    listed.get_by_role("link", name="Synced", exact=True).click()
    expect(listed).to_have_url(re.compile(r"sync=synced"))
    expect(_rows(listed)).to_have_count(1)
    expect(_rows(listed)).to_contain_text("Sam Synced")
    assert listed.evaluate("window.notReloaded") is True
    settled(listed)
    listed.get_by_role("link", name="Not synced").click()
    expect(_rows(listed)).to_have_text([re.compile("Dora Direct")])
    listed.go_back()
    expect(listed).to_have_url(re.compile(r"sync=synced$"))
    expect(_rows(listed)).to_have_text([re.compile("Sam Synced")])
    listed.reload()
    expect(_rows(listed)).to_have_text([re.compile("Sam Synced")])
    expect(listed.get_by_role("link", name="Synced", exact=True)).to_have_attribute(
        "aria-current", "true"
    )


def test_search_is_live_combines_with_the_filter_and_is_in_the_url(listed):
    listed.get_by_role("link", name="Deleted in Stripe").click()
    expect(_rows(listed)).to_have_count(1)
    settled(listed)
    listed.get_by_label("Search by name or email").fill("EXAMPLE.COM")
    expect(listed).to_have_url(re.compile(r"q=EXAMPLE.COM"))
    expect(listed).to_have_url(re.compile(r"sync=deleted"))
    expect(_rows(listed)).to_have_text([re.compile("Gus Gone")])
    settled(listed)
    listed.get_by_role("link", name="All", exact=True).click()
    expect(_rows(listed)).to_have_count(3)
    listed.get_by_label("Search by name or email").fill("zzz-nobody")
    expect(listed.get_by_text("No customers match")).to_be_visible()
    settled(listed)
    listed.get_by_role("link", name="Clear search and filter").click()
    expect(_rows(listed)).to_have_count(3)
    assert listed.evaluate("window.notReloaded") is True


def test_pagination(logged_in_page, live_server, business):
    seed_customers(business.id, 120)
    page = logged_in_page
    page.goto(f"{live_server.url}/customers")
    expect(page.locator("#customers-count")).to_have_text("1\u201350 of 120")
    top = page.get_by_role("navigation", name="Pages", exact=True)
    top.get_by_role("link", name="Next").click()
    expect(page.locator("#customers-count")).to_have_text("51\u2013100 of 120")
    expect(page).to_have_url(re.compile(r"page=2"))
    settled(page)
    top.get_by_role("link", name="Next").click()
    expect(page.locator("#customers-count")).to_have_text("101\u2013120 of 120")
    expect(page.get_by_role("link", name="Next")).to_have_count(0)
    settled(page)
    top.get_by_role("link", name="Previous").click()
    expect(page.locator("#customers-count")).to_have_text("51\u2013100 of 120")


def test_inline_edit_valid_invalid_and_escape(listed):
    row = listed.locator("tr", has_text="Sam Synced")
    customer_id = Customer.get(Customer.name == "Sam Synced").id
    row.get_by_role("link", name=re.compile("Edit")).click()
    form = listed.locator(f"#customer-{customer_id} form.row-edit")
    settled(listed)
    expect(form).to_contain_text("Stripe\u2019s next change to this customer overwrites it")
    form.get_by_label("Email").fill("not an email")
    form.get_by_role("button", name="Save").click()
    expect(form.locator(".field-error")).to_have_text(
        "Enter an email address like name@example.com."
    )
    assert Customer.get_by_id(customer_id).email == "sam@example.com"
    settled(listed)
    form.get_by_label("Name").fill("Temporary")
    form.get_by_label("Name").press("Escape")
    expect(listed.locator(f"#customer-{customer_id}")).to_contain_text("Sam Synced")
    expect(listed.locator("form.row-edit")).to_have_count(0)
    settled(listed)
    listed.locator(f"#customer-{customer_id}").get_by_role("link", name=re.compile("Edit")).click()
    expect(form).to_be_visible()
    settled(listed)
    form.get_by_label("Name").fill("Samuel Synced")
    form.get_by_label("Email").fill("samuel@example.com")
    form.get_by_role("button", name="Save").click()
    expect(listed.locator(f"#customer-{customer_id}")).to_contain_text("samuel@example.com")
    assert Customer.get_by_id(customer_id).name == "Samuel Synced"
    assert listed.evaluate("window.notReloaded") is True


def test_keyboard_alone_filters_searches_pages_and_edits(logged_in_page, live_server, business):
    seed_customers(business.id, 60)
    page = logged_in_page
    page.goto(f"{live_server.url}/customers")
    page.evaluate("window.notReloaded = true")
    page.locator("#filter-not_synced").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"sync=not_synced"))
    settled(page)
    page.get_by_label("Search by name or email").focus()
    page.keyboard.type("@")
    expect(page).to_have_url(re.compile(r"q=%40"))
    settled(page)
    page.locator("#filter-all").focus()
    page.keyboard.press("Enter")
    # A one-character search is answered from the index of single characters: counted.
    expect(page.locator("#customers-count")).to_have_text(re.compile(r"^1\u201350 of 60"))
    settled(page)
    page.locator("#page-next").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#customers-count")).to_have_text(re.compile(r"^51\u201360 of 60"))
    settled(page)
    first_edit = page.locator("td.actions a").first
    first_edit.focus()
    page.keyboard.press("Enter")
    name = page.locator("form.row-edit input[name=name]")
    expect(name).to_be_focused()
    settled(page)
    page.keyboard.press("Control+A")
    page.keyboard.type("Keyboard Person")
    page.keyboard.press("Enter")
    expect(page.locator("#customers-table")).to_contain_text("Keyboard Person")
    expect(page.locator("form.row-edit")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
