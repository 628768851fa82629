"""Issue 11's owner experience in Chromium, one test per rough edge a new user met:
a coherent demo, the live disconnect banner, the owner's own Disconnect, Back and
the search box, one import status, account names, error pages, local dates, and
duplicate emails."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from models.business import Business
from models.customer import Customer
from models.demo import DEMO_EMAIL, DEMO_PASSWORD
from models.import_run import FAILED, ImportRun
from models.user import User, utcnow
from tests.browser.htmx_wait import settled
from tests.browser.owner_world import link_named_account
from tests.conftest import make_customer, wait_until
from tests.test_connect_support import connect_app_fixture  # noqa: F401  (the app)
from views import demo

pytestmark = pytest.mark.browser


def _log_in(page, live_server, email, password):
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/customers"))


def test_the_demo_tells_one_story(app, sandbox_webhooks, page, live_server):
    sandbox = sandbox_webhooks
    app.config["STRIPE_SANDBOX_CONTROL_TOKEN"] = sandbox.control_token
    assert demo.set_up(app.config, 60, with_sandbox=True)
    business = Business.primary_for(User.by_email(DEMO_EMAIL))
    sandbox.wait_for_deliveries_idle(timeout=30)
    wait_until(
        lambda: (
            Customer.for_business(business)
            .where(Customer.deleted_in_stripe_at.is_null(False))
            .count()
            == 3
        )
    )
    _log_in(page, live_server, DEMO_EMAIL, DEMO_PASSWORD)
    expect(page.locator("#customers-table")).to_contain_text("Deleted in Stripe")
    expect(page.get_by_text("not connected", exact=False)).to_have_count(0)
    expect(page.locator("#stripe-banner")).to_have_count(0)
    # Every green badge names a customer that really is in the linked Stripe account.
    account = business.stripe_links.get().account_id
    client = sandbox.client()
    badges = page.locator(".badge-stripe")
    expect(badges.first).to_be_visible()
    for stripe_id in badges.evaluate_all("els => els.map(e => e.title)"):
        found = client.v1.customers.retrieve(stripe_id, options={"stripe_account": account})
        assert found.id == stripe_id and not getattr(found, "deleted", False)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Stripe").click()
    expect(page.locator("#stripe-account")).to_contain_text("Shingle Roofing Co.")


def test_the_disconnected_banner_appears_without_a_reload(
    app, sandbox_webhooks, business, logged_in_page, live_server
):
    account = link_named_account(business, sandbox_webhooks, app.config)
    page = logged_in_page
    page.goto(f"{live_server.url}/customers")
    page.evaluate("window.notReloaded = true")
    expect(page.locator("#stripe-banner")).to_have_count(0)
    sandbox_webhooks.deauthorize(account)  # the owner removes ShingleAI in Stripe
    banner = page.locator("#stripe-banner")
    expect(banner).to_contain_text("Stripe disconnected", timeout=5_000)
    expect(banner).to_contain_text("Acme Roofing")
    assert page.evaluate("window.notReloaded") is True


def test_the_owners_own_disconnect_asks_first_and_reads_as_a_choice(
    app, sandbox_webhooks, business, logged_in_page, live_server
):
    link_named_account(business, sandbox_webhooks, app.config)
    page = logged_in_page
    page.goto(f"{live_server.url}/stripe")
    page.get_by_role("link", name="Disconnect…").click()
    expect(page.get_by_role("heading", name="Disconnect Stripe?")).to_be_visible()
    expect(page.locator("#disconnect-confirm")).to_contain_text("Acme Roofing")
    page.get_by_role("link", name="Cancel").click()
    assert business.stripe_links.get().is_connected
    page.get_by_role("link", name="Disconnect…").click()
    page.get_by_role("button", name="Disconnect Stripe").click()
    expect(page.locator("#stripe-banner")).to_contain_text("You disconnected Stripe")
    sandbox_webhooks.wait_for_deliveries_idle()  # Stripe's echo of our own revocation
    page.goto(f"{live_server.url}/stripe")
    expect(page.locator("#stripe-banner")).to_contain_text("You disconnected Stripe")
    expect(page.locator("body")).not_to_contain_text("Access was revoked")
    expect(page.locator("#sync-health .badge-problem")).to_have_count(0)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    expect(page.locator("#stripe-banner")).to_contain_text("You disconnected Stripe")


def test_back_keeps_the_search_box_and_filters_in_step(logged_in_page, live_server, business):
    make_customer(business, name="Ada Lovelace", email="ada@example.com")
    make_customer(
        business, name="Grace Hopper", email="grace@example.com", stripe_customer_id="cus_g"
    )
    page = logged_in_page
    page.goto(f"{live_server.url}/customers")
    page.get_by_label("Search by name or email").fill("ada")
    expect(page).to_have_url(re.compile(r"q=ada"))
    settled(page)
    page.locator("#filter-synced").click()
    expect(page).to_have_url(re.compile(r"sync=synced"))
    settled(page)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/customers\?q=ada(&sync=all)?$"))
    expect(page.get_by_label("Search by name or email")).to_have_value("ada")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/customers$"))
    expect(page.get_by_label("Search by name or email")).to_have_value("")
    settled(page)
    page.locator("#filter-synced").click()
    expect(page).to_have_url(re.compile(r"/customers\?sync=synced$"))
    expect(page.locator("#customers-table")).to_contain_text("Grace Hopper")


def test_a_failed_import_reads_the_same_everywhere(
    app, sandbox, business, logged_in_page, live_server
):
    link_named_account(business, sandbox, app.config)
    run = ImportRun.latest_for(business)
    ImportRun.update(
        status=FAILED,
        last_error="Stripe kept rate-limiting the import.",
        retry_at=utcnow() - timedelta(seconds=5),
    ).where(ImportRun.id == run.id).execute()
    page = logged_in_page
    page.goto(f"{live_server.url}/stripe")
    expect(page.locator("#import-retry")).to_have_text("Retrying now.")
    health = page.locator("#health-checks")
    expect(health).to_contain_text("Last import failed: Stripe kept rate-limiting the import.")
    expect(health).to_contain_text("Retrying now.")
    expect(health).not_to_contain_text("running")
    expect(health.locator(".badge-problem")).to_have_count(1)


def test_the_health_panel_follows_the_import_when_it_fails(
    app, sandbox, business, logged_in_page, live_server
):
    link_named_account(business, sandbox, app.config)
    run = ImportRun.create(business=business, status="running")
    page = logged_in_page
    page.goto(f"{live_server.url}/stripe")
    expect(page.locator("#health-checks")).to_contain_text("The import is running")
    run.finish(FAILED, error="Stripe is unreachable.", retry_at=utcnow() + timedelta(minutes=2))
    # Within the status partial's next poll, not the panel's own 30 s refresh.
    expect(page.locator("#health-checks")).to_contain_text(
        "Last import failed: Stripe is unreachable.", timeout=5_000
    )
    expect(page.locator("#import-status")).to_contain_text("Retrying automatically at")


def test_names_beside_ids_and_the_consent_page_remembers_the_account(
    app, sandbox, business, logged_in_page, live_server
):
    first = sandbox.create_account(name="Acme Roofing", customers=2, connected=False)
    page = logged_in_page
    page.goto(f"{live_server.url}/stripe")
    expect(page.locator("#access-note")).to_contain_text("read and write")
    page.get_by_role("button", name="Connect Stripe").click()
    page.locator(f"#acct-{first}").check()
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.locator(".flashes")).to_contain_text(f"Acme Roofing ({first})")
    # The import's live status tells how it goes; no flash claims it is still running.
    expect(page.locator(".flashes")).not_to_contain_text("being imported")
    expect(page.locator("#stripe-account")).to_contain_text("Acme Roofing")
    wait_until(
        lambda: not ImportRun.select().where(ImportRun.status.in_(("queued", "running"))).exists()
    )
    page.get_by_role("link", name="Disconnect…").click()
    page.get_by_role("button", name="Disconnect Stripe").click()
    page.get_by_role("button", name="Reconnect Stripe").click()
    expect(page.locator(f"#acct-{first}")).to_be_checked()  # preselected: linked before
    page.locator("#acct-new").check()
    page.get_by_role("textbox", name="New account name").fill("Gutter Co")
    page.get_by_role("button", name="Connect", exact=True).click()
    confirm = page.locator("#switch-confirm")
    expect(confirm).to_contain_text(f"Acme Roofing ({first})")
    expect(confirm).to_contain_text("Gutter Co (acct_")
    expect(page.get_by_role("button", name="Switch to Gutter Co")).to_be_visible()


@pytest.mark.parametrize(
    ("path", "status", "heading"),
    [
        ("/no-such-page", 404, "Page not found"),
        ("/stripe/connect", 405, "That action is not available here"),
    ],
    ids=["404", "405"],
)
def test_error_pages_keep_the_layout(logged_in_page, live_server, path, status, heading):
    response = logged_in_page.goto(f"{live_server.url}{path}")
    assert response.status == status
    expect(logged_in_page.get_by_role("heading", name=heading)).to_be_visible()
    nav = logged_in_page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="API tokens")).to_be_visible()
    logged_in_page.get_by_role("link", name="Go to Customers").click()
    expect(logged_in_page).to_have_url(re.compile(r"/customers$"))


def test_a_bad_filter_in_the_url_returns_to_the_list_with_a_note(logged_in_page, live_server):
    logged_in_page.goto(f"{live_server.url}/customers?sync=everything&q=ada")
    expect(logged_in_page).to_have_url(re.compile(r"/customers\?q=ada$"))
    expect(logged_in_page.locator(".flashes")).to_contain_text("There is no “everything” filter")
    expect(logged_in_page.get_by_label("Search by name or email")).to_have_value("ada")


def test_dates_follow_the_browsers_time_zone_with_utc_on_hover(
    browser, live_server, owner, business
):
    make_customer(business, name="Late Night", customer_since=1_764_543_600)  # 2025-11-30 23:00Z
    context = browser.new_context(timezone_id="America/New_York")
    page = context.new_page()
    try:
        _log_in(page, live_server, "owner@example.com", "correct horse battery")
        # The page reports the browser's zone, then redraws itself in it once.
        expect(page.locator("body")).to_have_attribute("data-time-zone", "America/New_York")
        when = page.locator("tr", has_text="Late Night").locator("time")
        expect(when).to_have_text("Nov 30, 2025")  # 18:00 in New York, same day
        assert User.get_by_id(owner.id).time_zone == "America/New_York"
        make_customer(business, name="Midnight", customer_since=1_764_550_800)  # Dec 1 01:00Z
        page.reload()
        late = page.locator("tr", has_text="Midnight").locator("time")
        expect(late).to_have_text("Nov 30, 2025")  # still Nov 30 in New York
        expect(late).to_have_attribute("title", "2025-12-01 01:00:00 UTC")
        page.goto(f"{live_server.url}/settings/api-tokens")
        expect(page.locator("body")).not_to_contain_text(" UTC<")
    finally:
        context.close()


def test_the_inline_edit_refuses_another_customers_email(logged_in_page, live_server, business):
    make_customer(business, name="Ada Lovelace", email="ada@example.com")
    other = make_customer(business, name="Grace Hopper", email="grace@example.com")
    page = logged_in_page
    page.goto(f"{live_server.url}/customers")
    # htmx must have wired the row's Edit link, or the click follows the plain link.
    page.wait_for_function("() => window.htmx && document.readyState === 'complete'")
    settled(page)
    page.locator(f"#edit-{other.id}").click()
    settled(page)
    page.locator("form.row-edit").get_by_label("Email").fill("ADA@example.com")
    page.get_by_role("button", name="Save").click()
    error = page.locator(f"#email-{other.id}-error")
    expect(error).to_contain_text("Ada Lovelace (ada@example.com) already has this email")
    assert Customer.get_by_id(other.id).email == "grace@example.com"
