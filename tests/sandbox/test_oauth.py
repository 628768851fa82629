"""Connect OAuth: the authorize page, code exchange rules, deauthorization."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import stripe
from stripe import oauth_error

REDIRECT = "http://127.0.0.1:5000/stripe/callback"


def _exchange(client, code):
    return client.oauth.token({"grant_type": "authorization_code", "code": code})


def test_token_returns_stripe_fields(sandbox, client):
    account = sandbox.create_account(connected=False)
    token = _exchange(client, sandbox.authorize_code(account))
    assert token.stripe_user_id == account
    assert token.token_type == "bearer"
    assert token.scope == "read_write"
    assert token.livemode is False
    for name in ("access_token", "refresh_token", "stripe_publishable_key"):
        assert name in token
    client.v1.customers.list({}, {"stripe_account": account})  # now connected


def test_used_code_fails_and_revokes_the_connection(sandbox, client):
    account = sandbox.create_account(connected=False)
    code = sandbox.authorize_code(account)
    _exchange(client, code)
    with pytest.raises(oauth_error.InvalidGrantError) as info:
        _exchange(client, code)
    assert info.value.code == "invalid_grant"
    with pytest.raises(stripe.PermissionError):
        client.v1.customers.list({}, {"stripe_account": account})


def test_unknown_code_is_invalid_grant(client):
    with pytest.raises(oauth_error.InvalidGrantError) as info:
        _exchange(client, "ac_unknown")
    assert "does not exist" in str(info.value)


def test_expired_code_is_invalid_grant(sandbox, client):
    sandbox.configure(oauth_code_ttl_s=0)
    code = sandbox.authorize_code(customers=3)
    with pytest.raises(oauth_error.InvalidGrantError) as info:
        _exchange(client, code)
    assert "expired" in str(info.value)


def test_unsupported_grant_type(client):
    with pytest.raises(oauth_error.UnsupportedGrantTypeError):
        client.oauth.token({"grant_type": "password", "code": "x"})


def test_authorize_page_connects_a_new_account(sandbox, client):
    existing = sandbox.create_account(name="Existing shop")
    url = client.oauth.authorize_url(
        {"scope": "read_write", "state": "s-123", "redirect_uri": REDIRECT}
    )
    assert url.startswith(sandbox.url + "/oauth/authorize?")
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    for text in ("ShingleAI Customers", "Existing shop", existing, "Connect", "Cancel"):
        assert text in page.text
    answer = requests.post(
        sandbox.url + "/oauth/authorize",
        data={
            "action": "connect",
            "account": "new",
            "name": "Fresh shop",
            "customers": "12",
            "redirect_uri": REDIRECT,
            "state": "s-123",
            "scope": "read_write",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert query["state"] == ["s-123"] and query["scope"] == ["read_write"]
    token = _exchange(client, query["code"][0])
    listed = client.v1.customers.list({"limit": 100}, {"stripe_account": token.stripe_user_id})
    assert len(listed.data) == 12


def test_cancel_redirects_with_access_denied(sandbox):
    answer = requests.post(
        sandbox.url + "/oauth/authorize",
        data={"action": "cancel", "redirect_uri": REDIRECT, "state": "s-9"},
        allow_redirects=False,
        timeout=5,
    )
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query == {
        "error": ["access_denied"],
        "error_description": ["The user denied your request"],
        "state": ["s-9"],
    }


def test_wrong_client_id_is_shown_not_redirected(sandbox):
    page = requests.get(
        sandbox.url + "/oauth/authorize",
        params={"client_id": "ca_other", "response_type": "code", "redirect_uri": REDIRECT},
        allow_redirects=False,
        timeout=5,
    )
    assert page.status_code == 400
    assert "invalid_client" in page.text


def test_deauthorize_from_the_app(sandbox, client, account):
    answer = client.oauth.deauthorize({"stripe_user_id": account})
    assert answer.stripe_user_id == account
    with pytest.raises(stripe.PermissionError):
        client.v1.customers.list({}, {"stripe_account": account})
    with pytest.raises(oauth_error.InvalidClientError):
        client.oauth.deauthorize({"stripe_user_id": account})
