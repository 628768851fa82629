"""Connecting Stripe through Connect OAuth, against a real sandbox over HTTP: the
state check, cancellation, bad codes, exactly-once exchange, and who may link what."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from models import Business, User
from models.import_run import ImportRun
from models.stripe_account import ATTEMPT_TTL, ConnectAttempt, ConnectRefused, StripeAccount
from models.user import utcnow
from tests.conftest import PASSWORD
from tests.test_connect_support import (  # noqa: F401  (fixtures)
    callback,
    connect,
    connect_app_fixture,
    has_access,
    link_of,
    page_text,
    sandbox_fixture,
    start,
)

NOTHING_LINKED = "nothing was linked"


def test_page_offers_connect_and_names_the_sandbox(client, logged_in, sandbox):
    page = page_text(client)
    assert "Connect Stripe" in page
    assert "local Stripe sandbox" in page
    assert f'href="{sandbox.url}"' in page


def test_list_links_to_the_stripe_page_until_connected(client, logged_in):
    page = page_text(client, "/customers")
    assert "Stripe is not connected yet." in page
    assert 'href="/stripe"' in page


def test_connect_sends_the_owner_to_stripe_with_state_and_read_write(client, logged_in, sandbox):
    query = start(client, logged_in)
    assert query["_url"] == f"{sandbox.url}/oauth/authorize"
    assert query["client_id"] == "ca_sandbox"
    assert query["response_type"] == "code"
    assert query["scope"] == "read_write"
    assert query["redirect_uri"] == "http://localhost/stripe/callback"
    assert len(query["state"]) >= 32
    # Only a hash of the state is kept.
    assert ConnectAttempt.select().where(ConnectAttempt.state_hash == query["state"]).count() == 0
    assert ConnectAttempt.select().count() == 1


def test_redirect_uri_honours_public_url(app, client, logged_in):
    app.config["PUBLIC_URL"] = "https://shingle.example.com/"
    assert start(client, logged_in)["redirect_uri"] == "https://shingle.example.com/stripe/callback"


def test_connect_requires_csrf(client, logged_in):
    assert client.post("/stripe/connect").status_code == 400
    assert ConnectAttempt.select().count() == 0


def test_connect_links_the_account_and_starts_the_import(client, logged_in, sandbox, business):
    account = sandbox.create_account(name="Roof shop", customers=3, connected=False)
    response = connect(client, logged_in, sandbox, account)
    assert response.status_code == 302
    link = link_of(business)
    assert (link.account_id, link.status) == (account, "connected")
    run = ImportRun.latest_for(business)
    assert run.reason == "connect"
    assert run.status in ("queued", "running", "succeeded")
    page = page_text(client)
    assert account in page and "Connected since" in page and "Disconnect" in page
    assert f"Stripe is connected to Roof shop ({account})." in page


@pytest.mark.parametrize(
    "state",
    [None, "", "forged-state-value-that-we-never-issued"],
    ids=["missing", "empty", "forged"],
)
def test_a_callback_without_our_state_is_refused_before_calling_stripe(
    client, logged_in, sandbox, business, state
):
    start(client, logged_in)  # a genuine attempt exists; the callback does not match it
    account = sandbox.create_account(connected=False)
    code = sandbox.authorize_code(account)
    args = {"code": code} | ({} if state is None else {"state": state})
    response = callback(client, **args)
    assert response.status_code == 400
    assert NOTHING_LINKED in response.get_data(as_text=True)
    assert link_of(business) is None
    # The code was never sent to Stripe: it can still be exchanged once.
    assert sandbox.client().oauth.token({"grant_type": "authorization_code", "code": code})


def test_a_state_started_by_another_owner_is_refused(client, logged_in, sandbox, business, app):
    other = User.create_owner("other@example.com", PASSWORD, "Other Roofing")
    other_state = ConnectAttempt.start(Business.primary_for(other))
    response = callback(client, state=other_state, code=sandbox.authorize_code())
    assert response.status_code == 400
    assert link_of(business) is None


def test_a_refreshed_callback_does_not_use_the_code_again(client, logged_in, sandbox, business):
    account = sandbox.create_account(customers=2, connected=False)
    state = start(client, logged_in)["state"]
    code = sandbox.authorize_code(account)
    assert callback(client, state=state, code=code).status_code == 302
    again = callback(client, state=state, code=code)
    assert again.status_code == 400
    assert "already used" in again.get_data(as_text=True)
    # A second exchange would have made Stripe revoke the connection.
    assert has_access(sandbox, account)
    assert link_of(business).is_connected


def test_cancel_at_stripe_stores_nothing(client, logged_in, business):
    state = start(client, logged_in)["state"]
    response = callback(client, state=state, error="access_denied", error_description="denied")
    assert response.status_code == 302
    assert "Connecting Stripe was cancelled" in page_text(client)
    assert link_of(business) is None
    # The attempt is used up: its state cannot carry a code afterwards.
    assert callback(client, state=state, code="ac_later").status_code == 400


def test_other_stripe_errors_are_named_without_echoing_their_text(client, logged_in, business):
    state = start(client, logged_in)["state"]
    callback(client, state=state, error="invalid_scope", error_description="<b>evil</b>")
    page = page_text(client)
    assert "Stripe did not connect (invalid_scope)" in page and "evil" not in page
    assert link_of(business) is None


def test_an_unknown_code_gets_a_clear_message_and_a_way_back(client, logged_in, business):
    state = start(client, logged_in)["state"]
    callback(client, state=state, code="ac_doesnotexist")
    page = page_text(client)
    assert "its code expired" in page and "Connect Stripe again" in page
    assert 'action="/stripe/connect"' in page
    assert link_of(business) is None


def test_an_expired_code_is_refused(client, logged_in, sandbox, business):
    sandbox.configure(oauth_code_ttl_s=0)
    account = sandbox.create_account(connected=False)
    connect(client, logged_in, sandbox, account)
    assert "its code expired" in page_text(client)
    assert link_of(business) is None


def test_a_code_used_elsewhere_is_refused(client, logged_in, sandbox, business):
    account = sandbox.create_account(connected=False)
    state = start(client, logged_in)["state"]
    code = sandbox.authorize_code(account)
    sandbox.client().oauth.token({"grant_type": "authorization_code", "code": code})
    callback(client, state=state, code=code)
    assert "already used" in page_text(client)
    assert link_of(business) is None


def test_an_account_linked_to_another_business_is_refused(client, logged_in, sandbox, business):
    account = sandbox.create_account(connected=True)
    other = User.create_owner("other@example.com", PASSWORD, "Other Roofing")
    StripeAccount.attach(Business.primary_for(other), account, livemode=False)
    connect(client, logged_in, sandbox, account)
    assert "already linked to another ShingleAI business" in page_text(client)
    assert link_of(business) is None
    # The other business keeps its link, in ShingleAI and in Stripe.
    assert StripeAccount.connected_to(account).business_id != business.id
    assert has_access(sandbox, account)


def test_only_the_primary_business_can_be_linked(client, logged_in, sandbox, owner, business):
    state = start(client, logged_in)["state"]
    side = Business.get(Business.name == "Side Project")
    side.make_primary()  # the owner switched businesses while at Stripe
    response = callback(client, state=state, code=sandbox.authorize_code())
    assert response.status_code == 400
    assert "Only your primary business" in response.get_data(as_text=True)
    assert StripeAccount.select().count() == 0
    with pytest.raises(ConnectRefused, match="primary business"):
        StripeAccount.attach(Business.get_by_id(business.id), "acct_x", livemode=False)


def test_connect_while_connected_does_not_go_to_stripe(client, logged_in, sandbox, business):
    connect(client, logged_in, sandbox, sandbox.create_account(connected=False))
    response = client.post("/stripe/connect", data={"csrf_token": logged_in})
    assert response.status_code == 302 and response.location.endswith("/stripe")
    assert "already connected" in page_text(client)


def test_the_callback_requires_login(client, sandbox):
    response = callback(client, state="x", code="ac_x")
    assert response.status_code == 302 and re.search(r"/login", response.location)


def test_simultaneous_callbacks_exchange_the_code_once(live_server, owner, sandbox, business):
    """A double click reaches the server as concurrent requests with the same cookie."""
    http = requests.Session()
    login = http.get(f"{live_server.url}/login").text
    http.post(
        f"{live_server.url}/login",
        data={"email": owner.email, "password": PASSWORD, "csrf_token": _csrf(login)},
    )
    token = _csrf(http.get(f"{live_server.url}/stripe").text)
    sent = http.post(
        f"{live_server.url}/stripe/connect", data={"csrf_token": token}, allow_redirects=False
    )
    state = parse_qs(urlsplit(sent.headers["Location"]).query)["state"][0]
    account = sandbox.create_account(connected=False)
    args = {"state": state, "code": sandbox.authorize_code(account)}

    def answer(_):
        url = f"{live_server.url}/stripe/callback"
        return http.get(url, params=args, allow_redirects=False).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(answer, range(4)))
    assert statuses == [302, 400, 400, 400]
    assert has_access(sandbox, account)
    assert link_of(business).account_id == account


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_an_attempt_left_too_long_is_refused(client, logged_in, sandbox, business):
    state = start(client, logged_in)["state"]
    ConnectAttempt.update(created_at=utcnow() - ATTEMPT_TTL - timedelta(seconds=1)).execute()
    response = callback(client, state=state, code=sandbox.authorize_code())
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert link_of(business) is None
