"""Each Stripe error reaches the library as the right exception class."""

import pytest
import stripe


def test_wrong_key_is_authentication_error(sandbox, account):
    bad = stripe.StripeClient(
        "sk_test_wrong", base_addresses={"api": sandbox.url, "connect": sandbox.url}
    )
    with pytest.raises(stripe.AuthenticationError) as info:
        bad.v1.customers.list({}, {"stripe_account": account})
    assert info.value.http_status == 401
    assert "Invalid API Key provided: sk_test_" in str(info.value)
    assert "wrong" not in info.value.user_message  # the key is redacted


def test_revoked_account_is_permission_error(sandbox, client, account):
    client.v1.customers.list({}, {"stripe_account": account})
    sandbox.deauthorize(account)
    with pytest.raises(stripe.PermissionError) as info:
        client.v1.customers.list({}, {"stripe_account": account})
    assert info.value.http_status == 403
    assert info.value.json_body["error"]["code"] == "account_invalid"
    assert "Application access may have been revoked" in str(info.value)


def test_unknown_account_is_permission_error(client):
    with pytest.raises(stripe.PermissionError):
        client.v1.customers.list({}, {"stripe_account": "acct_doesnotexist"})


def test_rate_limit_is_rate_limit_error(sandbox, client, account):
    sandbox.configure(rate_limit=3)
    opts = {"stripe_account": account}
    for _ in range(3):
        client.v1.customers.list({}, opts)
    with pytest.raises(stripe.RateLimitError) as info:
        client.v1.customers.list({}, opts)
    assert info.value.http_status == 429
    assert info.value.json_body["error"]["code"] == "rate_limit"
    assert info.value.headers["Stripe-Rate-Limited-Reason"] == "global-rate"


def test_rate_limit_is_per_account(sandbox, client, account):
    other = sandbox.create_account(name="Other")
    sandbox.configure(rate_limit=2)
    for _ in range(2):
        client.v1.customers.list({}, {"stripe_account": account})
    client.v1.customers.list({}, {"stripe_account": other})  # its own budget


def test_unknown_parameter_is_invalid_request(client, account):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.create({"colour": "blue"}, {"stripe_account": account})
    assert info.value.param == "colour"


def test_bad_cursor_is_resource_missing(client, account):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.list({"starting_after": "cus_gone"}, {"stripe_account": account})
    assert info.value.code == "resource_missing"
    assert info.value.param == "starting_after"


def test_injected_server_error_is_api_error(sandbox, client, account):
    sandbox.configure(error_rate=1.0)
    with pytest.raises(stripe.APIError) as info:
        client.v1.customers.list({}, {"stripe_account": account})
    assert info.value.http_status == 500


def test_dropped_connection_is_api_connection_error(sandbox, client, account):
    sandbox.configure(drop_rate=1.0)
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.list({}, {"stripe_account": account})
