"""Stripe's full customer object in the API: `stripe` on single-customer answers,
lean lists unless `expand=stripe`, and `stripeCustomerId` beside `stripe_customer_id`."""

from __future__ import annotations

import pytest

from models import Business, User
from models.stripe_object import pack
from tests.api_support import (  # noqa: F401  (fixtures)
    api_fixture,
    assert_error,
    secret_fixture,
)
from tests.conftest import make_customer

OBJECT = {
    "id": "cus_1",
    "object": "customer",
    "created": 1_700_000_000,
    "phone": "+1 415 555 0100",
    "balance": -1250,
    "currency": "usd",
    "metadata": {"crm_id": "CRM-1"},
    "tax_ids": {
        "object": "list",
        "data": [{"id": "txi_1", "object": "tax_id", "type": "us_ein", "value": "12-3456789"}],
        "has_more": False,
        "total_count": 1,
        "url": "/v1/customers/cus_1/tax_ids",
    },
}


@pytest.fixture
def synced(business):
    return make_customer(business, stripe_customer_id="cus_1", stripe_object=pack(OBJECT))


def test_get_returns_the_stripe_object_and_the_help_page_name(api, synced):
    body = api.get(f"/customers/{synced.id}").get_json()
    assert body["stripeCustomerId"] == body["stripe_customer_id"] == "cus_1"
    stripe = body["stripe"]
    assert (stripe["phone"], stripe["balance"], stripe["currency"]) == (
        "+1 415 555 0100",
        -1250,
        "usd",
    )
    assert stripe["metadata"] == {"crm_id": "CRM-1"}
    assert stripe["tax_ids"]["data"][0]["value"] == "12-3456789"
    assert stripe == OBJECT  # exactly as Stripe sent it


def test_a_direct_customer_has_null_stripe_fields(api, business):
    body = api.get(f"/customers/{make_customer(business).id}").get_json()
    assert body["stripe"] is None and body["stripeCustomerId"] is None


def test_lists_stay_lean_unless_expanded(api, synced):
    lean = api.get("/customers").get_json()["data"]
    assert [row["stripeCustomerId"] for row in lean] == ["cus_1"]
    assert "stripe" not in lean[0]
    (full,) = api.get("/customers?expand=stripe").get_json()["data"]
    assert full["stripe"]["phone"] == "+1 415 555 0100"


@pytest.mark.parametrize("value", ["all", "stripe,tax", ""], ids=["all", "list", "empty"])
def test_unknown_expansions_are_400(api, synced, value):
    assert_error(api.get(f"/customers?expand={value}"), 400, "invalid_parameter", "expand")


def test_other_businesses_customers_are_404_with_their_object(api, owner):
    stranger = User.create_owner("other@example.com", "another password", "Other Co")
    side = Business.get((Business.owner == owner) & ~Business.is_primary)
    for business in (side, Business.primary_for(stranger)):
        row = make_customer(business, stripe_customer_id="cus_1", stripe_object=pack(OBJECT))
        response = api.get(f"/customers/{row.id}")
        assert_error(response, 404, "not_found", "id")
        assert "12-3456789" not in response.get_data(as_text=True)
