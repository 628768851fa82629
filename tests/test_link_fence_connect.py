"""Fenced Connect, against a real sandbox over HTTP: a late revocation never ends a
link made after it (issue 15, item 1); two Connect callbacks at once cannot link a
second account without the switch confirmation, and a held switch is refused once
the link changed in another tab (item 7)."""

from __future__ import annotations

import threading
import time

from models.customer import Customer
from models.stripe_account import ConnectAttempt, StripeAccount
from models.webhook_event import WebhookEvent
from tests.conftest import AuthActions
from tests.test_connect_support import (  # noqa: F401  (fixtures)
    callback,
    connect,
    connect_app_fixture,
    has_access,
    imports_idle,
    link_of,
    page_text,
    sandbox_fixture,
    start,
    wait_until,
)
from tests.webhooks_support import deliver, make_event, stripe_customer

APPLICATION = {"id": "ca_platform", "object": "application", "name": "ShingleAI"}


def _connected(client, csrf, sandbox, business, customers=0) -> str:
    account = sandbox.create_account(customers=customers, connected=False)
    connect(client, csrf, sandbox, account)
    assert link_of(business).is_connected
    wait_until(imports_idle, timeout=60)
    return account


def _revocation(account: str, created: int | None = None) -> dict:
    return make_event(
        "account.application.deauthorized",
        APPLICATION,
        account=account,
        created=created or int(time.time()),
    )


# -- item 1: a late revocation ---------------------------------------------------------
def test_a_late_revocation_does_not_end_the_link_made_after_it(
    client, logged_in, sandbox, business
):
    account = _connected(client, logged_in, sandbox, business)
    client.post("/stripe/disconnect", data={"csrf_token": logged_in})
    # Stripe's event for that revocation is held back somewhere on the way...
    held = _revocation(account)
    connect(client, logged_in, sandbox, account)  # ...while the owner connects again
    wait_until(imports_idle, timeout=60)
    answer = deliver(client, held, secret=sandbox.webhook_secret)
    assert answer.status_code == 200 and answer.json["outcome"] == "ignored"
    link = link_of(business)
    assert link.is_connected
    assert link.generation == 2
    reason = WebhookEvent.get(WebhookEvent.event_id == held["id"]).error
    assert "sent before the current connection" in reason and account in reason
    # Later events still arrive.
    later = make_event("customer.created", stripe_customer("cus_later"), account=account)
    assert deliver(client, later, secret=sandbox.webhook_secret).json["outcome"] == "applied"
    assert Customer.get(Customer.stripe_customer_id == "cus_later").name == "Ada"


def test_a_revocation_from_before_the_connection_ends_it_when_stripe_confirms(
    client, logged_in, sandbox, business
):
    account = _connected(client, logged_in, sandbox, business)
    sandbox.deauthorize(account)  # revoked again; only an old-looking event reaches us
    stale_looking = _revocation(account, created=int(time.time()) - 60)
    answer = deliver(client, stale_looking, secret=sandbox.webhook_secret)
    assert answer.json["outcome"] == "applied"
    link = link_of(business)
    assert (link.status, link.disconnect_reason) == ("disconnected", "Access was revoked in Stripe")
    assert link.disconnected_at >= link.connected_at


def test_a_revocation_clearly_after_the_connection_is_trusted(client, logged_in, sandbox, business):
    account = _connected(client, logged_in, sandbox, business)
    # Stripe still answers for the account, yet an event ten minutes after the
    # connection is taken as it is: no request is spent on it.
    event = _revocation(account, created=int(time.time()) + 600)
    assert deliver(client, event, secret=sandbox.webhook_secret).json["outcome"] == "applied"
    assert link_of(business).status == "disconnected"
    assert has_access(sandbox, account)


# -- item 7: two callbacks at once, and a switch held while the link changed ----------
def _second_tab(app) -> tuple:
    client = app.test_client()
    actions = AuthActions(client)
    actions.login()
    return client, actions.csrf_token()


def test_two_connect_callbacks_at_once_link_one_account_and_ask_about_the_other(
    app, client, logged_in, sandbox, business
):
    first, second = (sandbox.create_account(connected=False) for _ in range(2))
    other_tab, other_csrf = _second_tab(app)
    states = [start(client, logged_in)["state"], start(other_tab, other_csrf)["state"]]
    # Stripe takes its time answering the code exchange, so both callbacks read the
    # link before either has linked anything.
    sandbox.configure(oauth_latency_ms=1500)
    answers = {}

    def finish_first():
        code = sandbox.authorize_code(first)
        answers[first] = callback(client, state=states[0], code=code, scope="read_write")

    thread = threading.Thread(target=finish_first)
    thread.start()
    wait_until(lambda: ConnectAttempt.get_by_id(1).consumed_at is not None)
    code = sandbox.authorize_code(second)
    answers[second] = callback(other_tab, state=states[1], code=code, scope="read_write")
    thread.join()
    sandbox.configure(oauth_latency_ms=None)

    link = link_of(business)
    assert link.is_connected
    loser = second if link.account_id == first else first
    assert "/stripe/switch/" in answers[loser].location
    assert answers[link.account_id].location.endswith("/stripe")
    # The owner is asked, and nothing switches until they answer.
    tab = other_tab if loser == second else client
    page = " ".join(tab.get(answers[loser].location).get_data(as_text=True).split())
    assert "Switch to a different Stripe account?" in page and link.account_id in page
    assert "connected from another tab or window" in page
    assert link_of(business).account_id == link.account_id
    assert link.generation == 1


def test_a_held_switch_is_refused_after_the_link_was_reconnected_elsewhere(
    client, logged_in, sandbox, business
):
    old = _connected(client, logged_in, sandbox, business, customers=3)
    client.post("/stripe/disconnect", data={"csrf_token": logged_in})
    new = sandbox.create_account(connected=False)
    held = connect(client, logged_in, sandbox, new)  # tab 1: asked to switch
    assert "/stripe/switch/" in held.location
    connect(client, logged_in, sandbox, old)  # tab 2: the old account again
    wait_until(imports_idle, timeout=60)
    synced = Customer.select().where(Customer.stripe_customer_id.is_null(False)).count()
    assert synced == 3

    answer = client.post(held.location, data={"csrf_token": logged_in, "decision": "switch"})
    assert answer.status_code == 302
    page = page_text(client)
    assert "nothing was switched and your customers are unchanged" in page
    assert Customer.select().where(Customer.stripe_customer_id.is_null(False)).count() == 3
    link = link_of(business)
    assert (link.account_id, link.status, link.generation) == (old, "connected", 2)
    assert not has_access(sandbox, new)  # the unused grant is given back
    assert StripeAccount.connected_to(new) is None
