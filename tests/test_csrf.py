"""Every POST needs the session's CSRF token, in the form or in htmx's header."""

from __future__ import annotations

import pytest

from models.customer import Customer
from tests.conftest import make_customer


@pytest.fixture
def customer(business):
    return make_customer(business, name="Ada", email="ada@example.com")


@pytest.mark.parametrize(
    "sent",
    [{}, {"headers": {"X-CSRFToken": "wrong"}}, {"data_token": "wrong"}],
)
def test_post_without_or_with_a_wrong_token_is_refused(client, logged_in, customer, sent):
    data = {"name": "Changed", "email": "c@example.com"}
    if "data_token" in sent:
        data["csrf_token"] = sent["data_token"]
    response = client.post(f"/customers/{customer.id}", data=data, headers=sent.get("headers"))
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert Customer.get_by_id(customer.id).name == "Ada"


def test_htmx_header_token_is_accepted(client, logged_in, customer):
    response = client.post(
        f"/customers/{customer.id}",
        data={"name": "Changed", "email": "c@example.com"},
        headers={"HX-Request": "true", "X-CSRFToken": logged_in},
    )
    assert response.status_code == 200 and Customer.get_by_id(customer.id).name == "Changed"


def test_login_and_logout_need_the_token_too(client, owner):
    assert client.post("/login", data={"email": "owner@example.com"}).status_code == 400
    assert client.post("/logout").status_code == 400
