"""Create, use and revoke an API token in a real Chromium (htmx swaps the panel), and
the same page without JavaScript."""

from __future__ import annotations

import requests
from playwright.sync_api import expect

from models.api_token import ApiToken
from tests.conftest import PASSWORD


def _create(page, name: str) -> str:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Read only").check()
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text(f"Token “{name}” created.")).to_be_visible()
    return page.get_by_label("Your new token").input_value()


def test_create_use_and_revoke_with_htmx(logged_in_page, live_server):
    page = logged_in_page
    secret = _create(page, "Support agent")
    assert secret.startswith("shai_")
    # htmx swapped the panel in place: the URL did not change to the POST's answer.
    assert page.evaluate("document.querySelectorAll('#api-tokens').length") == 1
    row = page.get_by_role("row", name="Support agent")
    expect(row).to_contain_text("Read only")
    expect(row).to_contain_text("Never")

    api = f"{live_server.url}/api/v1/customers"
    assert requests.get(api, headers={"Authorization": f"Bearer {secret}"}, timeout=10).ok

    page.get_by_role("button", name="Revoke Support agent").click()
    expect(page.get_by_text("Revoked the token “Support agent”.")).to_be_visible()
    expect(page.get_by_label("Your new token")).to_have_count(0)
    expect(row).to_contain_text("Revoked")
    answer = requests.get(api, headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert answer.status_code == 401


def test_inline_error_then_success(logged_in_page):
    page = logged_in_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    # Bypass the browser's own "required" check to reach the server's message.
    page.get_by_label("Name").evaluate("el => el.removeAttribute('required')")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("Give the token a name")).to_be_visible()
    page.get_by_label("Name").fill("CI")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("Token “CI” created.")).to_be_visible()
    assert ApiToken.select().count() == 1


def test_works_without_javascript(browser, live_server, owner):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server.url}/login")
        page.get_by_label("Email").fill("owner@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{live_server.url}/settings/api-tokens")
        page.get_by_label("Name").fill("No JS")
        page.get_by_role("button", name="Create token").click()
        expect(page.get_by_text("Token “No JS” created.")).to_be_visible()
        page.get_by_role("button", name="Revoke No JS").click()
        expect(page).to_have_url(f"{live_server.url}/settings/api-tokens")
        expect(page.get_by_text("Revoked the token “No JS”.")).to_be_visible()
        assert ApiToken.get().is_revoked
    finally:
        context.close()


def test_page_has_no_accessibility_violations(logged_in_page):
    from axe_playwright_python.sync_playwright import Axe

    page = logged_in_page
    _create(page, "Audit")
    results = Axe().run(page, context="#main")
    assert results.violations_count == 0, results.generate_report()
