"""`GET /v1/accounts/{id}` as the platform reads a connected account (no
Stripe-Account header), and the consent page preselecting the account linked before."""

import pytest
import requests
import stripe


def test_retrieve_a_connected_account_in_stripes_shape(sandbox, client):
    account = sandbox.create_account(name="Acme Roofing")
    found = client.v1.accounts.retrieve(account)
    assert (found.id, found.object, found.type) == (account, "account", "standard")
    assert found.settings.dashboard.display_name == "Acme Roofing"
    assert found.business_profile.name == "Acme Roofing"


@pytest.mark.parametrize("case", ["revoked", "unknown"], ids=["revoked", "unknown"])
def test_an_account_we_cannot_reach_is_a_permission_error(sandbox, client, case):
    account = sandbox.create_account()
    if case == "revoked":
        sandbox.deauthorize(account)
    else:
        account = "acct_0000000000000000"
    with pytest.raises(stripe.PermissionError):
        client.v1.accounts.retrieve(account)


def test_the_consent_page_preselects_the_account_linked_before(sandbox, client):
    first = sandbox.create_account(name="First", connected=False)
    sandbox.create_account(name="Second", connected=False)
    url = (
        f"{sandbox.url}/oauth/authorize?client_id=ca_sandbox&response_type=code"
        "&redirect_uri=http://127.0.0.1:5000/stripe/callback"
    )
    page = requests.get(url, timeout=10).text
    assert 'id="acct-new" checked' in page  # nothing linked yet: a new account
    client.oauth.token({"grant_type": "authorization_code", "code": sandbox.authorize_code(first)})
    sandbox.deauthorize(first)
    page = requests.get(url, timeout=10).text
    assert f'id="acct-{first}" checked' in page and 'id="acct-new" checked' not in page
