"""axe-core finds no serious or critical problems on the login and list pages."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from models.user import utcnow
from tests.conftest import make_customer

pytestmark = pytest.mark.browser


def _serious(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def test_login_page(page, live_server):
    page.goto(f"{live_server.url}/login")
    assert _serious(page) == []
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("alert").wait_for()
    assert _serious(page) == []


def test_list_page_with_rows_edit_and_empty_state(logged_in_page, live_server, business):
    assert _serious(logged_in_page) == []  # the empty list
    make_customer(business, name="Sam", stripe_customer_id="cus_1")
    make_customer(business, name="Gus", stripe_customer_id="cus_2", deleted_in_stripe_at=utcnow())
    make_customer(business, name="Dora")
    logged_in_page.goto(f"{live_server.url}/customers")
    assert _serious(logged_in_page) == []
    logged_in_page.locator("td.actions a").first.click()
    logged_in_page.get_by_role("button", name="Save").wait_for()
    logged_in_page.locator("form.row-edit").get_by_label("Email").fill("bad")
    logged_in_page.get_by_role("button", name="Save").click()
    logged_in_page.locator(".field-error").first.wait_for()
    assert _serious(logged_in_page) == []
