"""Disconnect, revocation seen on API calls, reconnecting the same account, and
switching to a different one, against a real sandbox over HTTP."""

from __future__ import annotations

import stripe

from models.customer import Customer
from models.import_run import ImportRun
from models.link_history import LinkEvent
from models.stripe_account import ConnectAttempt, StripeAccount
from sync.connect import record_rejection
from sync.stripe_client import account_options
from tests.conftest import make_customer
from tests.test_connect_support import (  # noqa: F401  (fixtures)
    connect,
    connect_app_fixture,
    has_access,
    imports_idle,
    link_of,
    page_text,
    sandbox_fixture,
    wait_until,
)
from tests.webhooks_support import deliver, make_event, stripe_customer


def _connected(client, csrf, sandbox, business, customers=0):
    account = sandbox.create_account(customers=customers, connected=False)
    connect(client, csrf, sandbox, account)
    assert link_of(business).is_connected
    # Let the connect import (and the catch-up it queues) finish, so neither can race
    # the test's own Stripe calls.
    wait_until(lambda: _finished(business) and imports_idle(), timeout=60)
    return account


def _finished(business):
    run = ImportRun.latest_for(business)
    return run is not None and not run.is_active


def test_disconnect_deauthorizes_in_stripe_and_keeps_customers(
    client, logged_in, sandbox, business
):
    account = _connected(client, logged_in, sandbox, business)
    make_customer(business, stripe_customer_id="cus_kept")
    response = client.post("/stripe/disconnect", data={"csrf_token": logged_in})
    assert response.status_code == 302
    link = link_of(business)
    assert (link.status, link.disconnect_reason) == ("disconnected", "You disconnected Stripe.")
    assert link.disconnected_by == "owner" and link.disconnected_at is not None
    assert not has_access(sandbox, account)
    assert Customer.for_business(business).count() == 1
    page = page_text(client)
    assert "You disconnected Stripe" in page and "Reconnect Stripe" in page
    assert "Stripe disconnected" not in page and "Problem" not in page


def test_disconnect_asks_first_and_changes_nothing_until_confirmed(
    client, logged_in, sandbox, business
):
    account = _connected(client, logged_in, sandbox, business)
    page = client.get("/stripe/disconnect").get_data(as_text=True)
    assert "Disconnect Stripe?" in page and account in page
    assert 'method="post" action="/stripe/disconnect"' in page
    assert link_of(business).is_connected and has_access(sandbox, account)


def test_disconnect_of_an_account_already_revoked_in_stripe(client, logged_in, sandbox, business):
    account = _connected(client, logged_in, sandbox, business)
    sandbox.deauthorize(account)
    client.post("/stripe/disconnect", data={"csrf_token": logged_in})
    assert link_of(business).status == "disconnected"


def test_disconnect_requires_csrf(client, logged_in, sandbox, business):
    account = _connected(client, logged_in, sandbox, business)
    assert client.post("/stripe/disconnect").status_code == 400
    assert link_of(business).is_connected and has_access(sandbox, account)


def test_disconnect_when_stripe_is_unreachable_changes_nothing(
    app, client, logged_in, sandbox, business
):
    _connected(client, logged_in, sandbox, business)
    app.config["STRIPE_CONNECT_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    client.post("/stripe/disconnect", data={"csrf_token": logged_in})
    assert "could not reach Stripe" in page_text(client)
    assert link_of(business).is_connected


def test_a_permission_error_marks_the_link_disconnected(client, logged_in, sandbox, business):
    account = _connected(client, logged_in, sandbox, business)
    make_customer(business, name="Still here", stripe_customer_id="cus_1")
    sandbox.deauthorize(account)  # the owner revoked access in Stripe
    try:
        sandbox.client().v1.customers.list(options=account_options(account))
    except stripe.PermissionError as error:
        assert record_rejection(link_of(business), error) is True
    link = link_of(business)
    assert link.status == "disconnected"
    assert "refused ShingleAI access" in link.disconnect_reason
    page = page_text(client, "/customers")
    assert "Stripe disconnected" in page and link.disconnect_reason in page
    assert "Still here" in page
    # The first reason is kept.
    assert record_rejection(link, stripe.AuthenticationError("bad key")) is False


def test_an_ordinary_stripe_error_is_not_a_revocation(client, logged_in, sandbox, business):
    account = _connected(client, logged_in, sandbox, business)
    try:
        sandbox.client().v1.customers.retrieve("cus_missing", options=account_options(account))
    except stripe.InvalidRequestError as error:
        assert record_rejection(link_of(business), error) is False
    assert link_of(business).is_connected


def test_reconnecting_the_same_account_catches_up(client, logged_in, sandbox, business):
    account = _connected(client, logged_in, sandbox, business, customers=3)
    first_connected_at = link_of(business).connected_at
    sandbox.deauthorize(account)
    link_of(business).mark_disconnected("Access was revoked in Stripe")
    sandbox.seed(account, 2)  # the owner keeps using Stripe meanwhile
    connect(client, logged_in, sandbox, account)
    link = link_of(business)
    assert link.is_connected and link.disconnected_at is None and link.disconnect_reason is None
    assert link.connected_at > first_connected_at
    run = ImportRun.latest_for(business)
    assert run.reason == "reconnect"
    wait_until(lambda: _finished(business))
    in_stripe = {
        c.id
        for c in sandbox.client().v1.customers.list({"limit": 100}, account_options(account)).data
    }
    stored = [c.stripe_customer_id for c in Customer.for_business(business)]
    assert len(in_stripe) == 5
    assert sorted(stored) == sorted(in_stripe)  # everything, once
    assert "Stripe is connected again" in page_text(client)


def test_switching_to_a_different_account_after_a_disconnect(client, logged_in, sandbox, business):
    old = _connected(client, logged_in, sandbox, business)
    make_customer(business, name="From old", stripe_customer_id="cus_old1", stripe_version_at=1)
    make_customer(business, name="Typed here", email="t@example.com")
    client.post("/stripe/disconnect", data={"csrf_token": logged_in})
    new = sandbox.create_account(name="New shop", customers=2, connected=False)
    response = connect(client, logged_in, sandbox, new)
    assert response.status_code == 302 and "/stripe/switch/" in response.location
    confirm = client.get(response.location).get_data(as_text=True)
    assert old in confirm and new in confirm
    assert link_of(business).account_id == old  # nothing switched before the owner says so
    client.post(response.location, data={"csrf_token": logged_in, "decision": "switch"})
    link = link_of(business)
    assert (link.account_id, link.status) == (new, "connected")
    kept = Customer.get(Customer.name == "From old")
    assert kept.stripe_customer_id is None and kept.stripe_version_at is None
    assert StripeAccount.connected_to(old) is None
    # A late event from the old account changes nothing.
    late = make_event("customer.created", stripe_customer("cus_late"), account=old)
    assert deliver(client, late, secret=sandbox.webhook_secret).status_code == 200
    assert not Customer.select().where(Customer.stripe_customer_id == "cus_late").exists()
    assert ImportRun.latest_for(business).reason == "connect"
    assert "kept as not synced" in page_text(client)
    # The link's history, for the support console, written by these very code paths.
    steps = LinkEvent.history(business).order_by(LinkEvent.id)
    assert [(s.kind, s.account_id, s.previous_account_id) for s in steps] == [
        ("connected", old, None),
        ("disconnected", old, None),
        ("switched", new, old),
    ]
    # The same answer cannot be given twice.
    again = client.post(response.location, data={"csrf_token": logged_in, "decision": "switch"})
    assert again.status_code == 404


def test_declining_the_switch_keeps_the_old_link_and_releases_the_new_account(
    client, logged_in, sandbox, business
):
    old = _connected(client, logged_in, sandbox, business)
    client.post("/stripe/disconnect", data={"csrf_token": logged_in})
    new = sandbox.create_account(connected=False)
    response = connect(client, logged_in, sandbox, new)
    client.post(response.location, data={"csrf_token": logged_in, "decision": "keep"})
    link = link_of(business)
    assert (link.account_id, link.status) == (old, "disconnected")
    assert not has_access(sandbox, new)
    assert f"{old}) stays disconnected" in page_text(client)


def test_a_switch_of_another_business_is_not_found(client, logged_in, sandbox, business):
    attempt = ConnectAttempt.create(business=business, state_hash="x", account_id="acct_x")
    assert client.get(f"/stripe/switch/{attempt.id + 1}").status_code == 404
    # No link to switch from: nothing to confirm either.
    assert client.get(f"/stripe/switch/{attempt.id}").status_code == 404
