"""Helpers and fixtures shared by the API, API token and MCP tests."""

from __future__ import annotations

import pytest

from models import Business, User
from models.api_token import READ_WRITE, ApiToken

API = "/api/v1"


def issue_token(owner: User, business: Business, *, scope: str = READ_WRITE) -> str:
    """A new API token's secret, as the settings page would show it."""
    _token, secret = ApiToken.issue(owner, business, "Test agent", scope)
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(name="secret")
def secret_fixture(owner, business) -> str:
    return issue_token(owner, business)


@pytest.fixture(name="api")
def api_fixture(client, secret):
    """Calls the API with the owner's token."""

    class Api:
        def get(self, path, **kw):
            return client.get(API + path, headers=bearer(secret), **kw)

        def post(self, path, body=None, headers=None, **kw):
            return client.post(
                API + path, json=body, headers={**bearer(secret), **(headers or {})}, **kw
            )

        def patch(self, path, body=None, **kw):
            return client.patch(API + path, json=body, headers=bearer(secret), **kw)

    return Api()


def assert_error(response, status: int, code: str, field=None):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == (code, field), error
    assert error["message"], error
    return error
