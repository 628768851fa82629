"""The open Customers list shows sync's changes without a reload, keeping the owner's
filter, search, page and any open edit."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from models.customer import Customer
from sync.customers import Change, apply_changes
from sync.ordering import Source, Version
from tests.browser.htmx_wait import settled
from tests.conftest import make_customer

pytestmark = pytest.mark.browser


def _stripe(business, stripe_id, name, *, created=1_800_000_000, at=1_800_000_100):
    """A change as the webhooks or the import would apply it."""
    customer = {
        "id": stripe_id,
        "name": name,
        "email": f"{stripe_id}@example.com",
        "created": created,
    }
    apply_changes(business.id, [Change(customer, Version(at, Source.EVENT))])


@pytest.fixture
def live(logged_in_page, live_server, business):
    make_customer(business, name="Direct Dana", email="dana@example.com")
    _stripe(business, "cus_old", "Olga Old", created=1_700_000_000, at=1_700_000_000)
    return logged_in_page


def test_new_synced_customer_appears_with_filter_and_search_kept(live, live_server, business):
    live.goto(f"{live_server.url}/customers?sync=synced&q=example")
    live.evaluate("window.notReloaded = true")
    expect(live.locator("#customers-table tbody tr")).to_have_count(1)
    _stripe(business, "cus_new", "Nora New Synced")
    expect(live.locator("#customers-table")).to_contain_text("Nora New Synced")
    expect(live.locator("#customers-table")).not_to_contain_text("Direct Dana")
    expect(live).to_have_url(re.compile(r"sync=synced&q=example$"))
    assert live.get_by_label("Search by name or email").input_value() == "example"
    assert live.evaluate("window.notReloaded") is True


def test_update_appears_and_page_is_kept(live, live_server, business):
    live.goto(f"{live_server.url}/customers")
    live.evaluate("window.notReloaded = true")
    _stripe(business, "cus_old", "Olga Renamed In Stripe", created=1_700_000_000)
    expect(live.locator("#customers-table")).to_contain_text("Olga Renamed In Stripe")
    assert live.evaluate("window.notReloaded") is True


def test_open_edit_is_not_lost_and_the_change_lands_after_it_closes(live, live_server, business):
    live.goto(f"{live_server.url}/customers")
    dana = Customer.get(Customer.name == "Direct Dana")
    live.locator(f"#edit-{dana.id}").click()
    name = live.locator("form.row-edit input[name=name]")
    expect(name).to_be_focused()
    settled(live)
    name.fill("Half typed")
    # The poll reports the change while the form is open; the page holds the refresh.
    with live.expect_response(lambda r: "/customers/changes" in r.url and r.status == 200):
        _stripe(business, "cus_while", "Wendy While Editing")
    expect(live.locator(".live-region")).to_have_attribute("data-stale", "1")
    expect(name).to_have_value("Half typed")
    expect(live.locator("#customers-table")).not_to_contain_text("Wendy While Editing")
    name.press("Escape")
    expect(live.locator("#customers-table")).to_contain_text("Wendy While Editing")
