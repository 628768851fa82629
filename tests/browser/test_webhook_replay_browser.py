"""In a real Chromium: an event our automatic replays no longer retry is listed on the
Stripe page's health panel, and the owner's Replay (an htmx POST carrying the CSRF
header) applies it and redraws the panel."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from models import Customer
from tests.browser.htmx_wait import settled
from tests.console_support import failed_event, link_fixture
from tests.webhooks_support import stripe_customer, webhook_app

__all__ = ["link_fixture"]
pytestmark = pytest.mark.browser


@pytest.fixture
def app(tmp_path):
    return webhook_app(tmp_path)


def test_the_owner_replays_an_event_no_longer_retried(logged_in_page, live_server, link):
    event = failed_event(stripe_customer("cus_replayed", name="Rita Replay"))
    page = logged_in_page
    page.goto(f"{live_server.url}/stripe")
    listed = page.locator("#health-not-retried")
    expect(listed).to_contain_text("customer.created")
    expect(page.locator("#health-checks")).to_contain_text("no longer retried")
    settled(page)
    listed.get_by_role("button", name=f"Replay {event.event_id}").click()
    expect(page.locator("#health-replay-message")).to_have_text(
        "Replayed customer.created: Applied."
    )
    expect(page.locator("#health-not-retried")).to_have_count(0)
    assert Customer.get(Customer.stripe_customer_id == "cus_replayed").name == "Rita Replay"
    assert page.url.endswith("/stripe")  # redrawn in place, not a page load
