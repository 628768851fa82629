"""A NUL character in typed input is bad input on every backend (Postgres text cannot
hold one): pages refuse it with 400, the API with its own 400 or 422, Stripe's data
drops it, and a search drops it."""

from __future__ import annotations

import pytest

from models import Customer
from models.customer_list import list_page
from sync.customers import Change, apply_changes
from sync.ordering import Source, Version
from tests.api_support import (  # noqa: F401  (fixtures)
    api_fixture,
    assert_error,
    secret_fixture,
)
from tests.conftest import make_customer


@pytest.mark.parametrize(
    "path",
    ["/customers?q=a%00b", "/customers?sync=all&q=%00", "/login?next=%00"],
    ids=["search", "search-only-nul", "login-next"],
)
def test_pages_refuse_a_nul_in_the_query_string(client, logged_in, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


def test_a_form_with_a_nul_is_refused(client, auth, owner):
    response = client.post(
        "/login",
        data={"email": "owner@example.com\x00", "password": "x", "csrf_token": auth.csrf_token()},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Ada\x00", "email": "ada@example.com"}, "name"),
        ({"name": "Ada", "email": "ada\x00@example.com"}, "email"),
    ],
    ids=["name", "email"],
)
def test_the_api_refuses_a_nul_in_a_customer(api, body, field):
    assert_error(api.post("/customers", body), 422, "validation_error", field)
    assert Customer.select().count() == 0


def test_the_api_refuses_a_nul_in_a_search(api):
    assert_error(api.get("/customers?q=a%00"), 400, "invalid_parameter", "q")


def test_stripe_data_drops_a_nul(business):
    customer = {"id": "cus_1", "object": "customer", "name": "A\x00da", "created": 1}
    apply_changes(business.id, [Change(customer, Version(5, Source.EVENT))])
    assert Customer.get(Customer.stripe_customer_id == "cus_1").name == "Ada"


@pytest.mark.parametrize("q", ["ada\x00", "ada\x01"], ids=["nul", "separator"])
def test_control_characters_in_a_search_are_dropped(business, q):
    """Pages and the API refuse a NUL first; below them, a search ignores control
    characters (the separator of Postgres's search text among them)."""
    ada = make_customer(business, name="Ada Lovelace")
    make_customer(business, name="Grace Hopper", email="grace@example.com")
    assert [row.id for row in list_page(business.id, q=q).rows] == [ada.id]
