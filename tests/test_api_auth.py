"""The JSON API's front door: bearer tokens only (never the session cookie), and
every routing error as JSON in the one error shape."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Business, Customer
from models.api_token import READ_ONLY, ApiToken
from tests.api_support import (  # noqa: F401  (fixtures)
    API,
    api_fixture,
    assert_error,
    bearer,
    issue_token,
    secret_fixture,
)
from tests.conftest import make_customer

# --- authentication ---------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer shai_not-a-real-token", "Token x"],
)
def test_missing_or_unknown_token_is_401_with_challenge(client, owner, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get(f"{API}/customers", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert response.get_json()["error"]["code"] in {"missing_token", "invalid_token"}


def test_session_cookie_alone_does_not_authenticate(client, logged_in, business):
    make_customer(business)
    assert client.get("/customers").status_code == 200  # the dashboard session works
    assert_error(client.get(f"{API}/customers"), 401, "missing_token")
    response = client.post(
        f"{API}/customers",
        json={"name": "Eve", "email": "eve@example.com"},
        headers={"X-CSRFToken": logged_in},
    )
    assert_error(response, 401, "missing_token")
    assert Customer.select().where(Customer.email == "eve@example.com").count() == 0


def test_revoked_token_is_401(client, owner, business, secret):
    token = ApiToken.get(ApiToken.business == business)
    assert client.get(f"{API}/customers", headers=bearer(secret)).status_code == 200
    ApiToken.revoke(business, token.id)
    assert_error(client.get(f"{API}/customers", headers=bearer(secret)), 401, "token_revoked")


def test_token_of_a_business_no_longer_primary_is_403(client, owner, business, secret):
    Business.get((Business.owner == owner) & ~Business.is_primary).make_primary()
    assert_error(
        client.get(f"{API}/customers", headers=bearer(secret)), 403, "business_not_primary"
    )


def test_read_only_token_reads_but_cannot_write(client, owner, business):
    make_customer(business)
    secret = issue_token(owner, business, scope=READ_ONLY)
    assert client.get(f"{API}/customers", headers=bearer(secret)).status_code == 200
    response = client.post(
        f"{API}/customers", json={"name": "A", "email": "a@example.com"}, headers=bearer(secret)
    )
    assert_error(response, 403, "read_only_token")
    customer = Customer.get()
    response = client.patch(
        f"{API}/customers/{customer.id}", json={"name": "B"}, headers=bearer(secret)
    )
    assert_error(response, 403, "read_only_token")
    assert Customer.get().name == "Ada Lovelace"


def test_use_records_last_used(api, business):
    token = ApiToken.get(ApiToken.business == business)
    assert token.last_used_at is None
    api.get("/customers")
    assert ApiToken.get_by_id(token.id).last_used_at is not None


def test_last_used_is_written_at_most_once_a_minute(owner, business, secret):
    token = ApiToken.authenticate(secret)
    first = token.last_used_at
    token.touch(first + timedelta(seconds=30))
    assert ApiToken.get_by_id(token.id).last_used_at == first
    token.touch(first + timedelta(minutes=2))
    assert ApiToken.get_by_id(token.id).last_used_at == first + timedelta(minutes=2)


@pytest.mark.parametrize(
    "path", ["/customers/999", "/customers/99999999999999999999999", "/nope", ""]
)
def test_unknown_paths_are_json_404(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_wrong_method_is_json_405_with_allow(api, client, secret):
    response = client.delete(f"{API}/customers", headers=bearer(secret))
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_dashboard_errors_stay_html(client, logged_in):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert not response.is_json


def test_openapi_document_is_public_and_lists_every_operation(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    operations = {
        op["operationId"]
        for path in document["paths"].values()
        for key, op in path.items()
        if key != "parameters"
    }
    assert operations == {"listCustomers", "createCustomer", "getCustomer", "updateCustomer"}
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
