"""Every page an owner can reach, in Chromium at a phone's 390 px and at 1280 px:
nothing scrolls sideways, long text wraps, and axe-core reports no serious or critical
violation (issue 11, items 2, 5 and 12)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from models.api_token import ApiToken
from models.stripe_account import ConnectAttempt
from tests.browser.htmx_wait import settled
from tests.browser.owner_world import LONG_EMAIL, populate
from tests.conftest import PASSWORD
from tests.test_connect_support import connect_app_fixture  # noqa: F401  (the app)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _switch_page(business) -> str:
    attempt = ConnectAttempt.create(business=business, state_hash="h" * 64)
    attempt.hold_switch("acct_OtherShop000001", False, "Other Shop")
    return f"/stripe/switch/{attempt.id}"


# What each page needs before it is shown: a path, or a function of the business.
PAGES = {
    "login": None,
    "customers": "/customers",
    "customers-search": "/customers?q=zzz-nothing",
    "edit": "edit",
    "stripe": "/stripe",
    "disconnect-confirm": "/stripe/disconnect",
    "switch-confirm": _switch_page,
    "api-tokens": "/settings/api-tokens",
    "api-reference": "/static/api-reference.html",
    "not-found": "/no-such-page",
}


def _serious(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def _overflow(page) -> int:
    """How many pixels the page is wider than the viewport (0 when it fits)."""
    return page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"
    )


@pytest.mark.parametrize("name", list(PAGES), ids=list(PAGES))
def test_page_fits_a_phone_and_passes_axe(
    name, browser, app, sandbox, live_server, owner, business
):
    populate(business, sandbox, app.config)
    ApiToken.issue(owner, business, "Support agent", "read_write")
    target = PAGES[name]
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server.url}/login")
        if name != "login":
            page.get_by_label("Email").fill("owner@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url("**/customers")
            if target == "edit":
                page.locator("td.actions a").first.click()
                page.get_by_role("button", name="Save").wait_for()
            else:
                path = target(business) if callable(target) else target
                page.goto(f"{live_server.url}{path}")
            if name == "api-reference":
                page.locator("#api-reference h2").first.wait_for()
        settled(page)
        for viewport in (PHONE, DESKTOP):
            page.set_viewport_size(viewport)
            assert _overflow(page) <= 0, f"{viewport['width']} px wide page scrolls sideways"
            assert _serious(page) == [], f"at {viewport['width']} px"
    finally:
        context.close()


def test_a_long_unbroken_email_wraps_inside_its_cell(
    app, sandbox, logged_in_page, live_server, business
):
    populate(business, sandbox, app.config)
    page = logged_in_page
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/customers")
    cell = page.locator("td.cell-email", has_text=LONG_EMAIL[:30])
    table = page.locator("table.customers")
    main = page.locator("main").bounding_box()
    assert table.bounding_box()["width"] <= main["width"]
    assert cell.bounding_box()["height"] > 40  # wrapped onto several lines
    assert _overflow(page) <= 0
