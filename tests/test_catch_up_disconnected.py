"""Events that arrive while Stripe is disconnected: held for the business that was
linked to their account, shown on the Stripe page, and applied once by the catch-up
after a reconnect."""

from __future__ import annotations

import json
import time

import pytest

from models import StripeAccount, link_history
from models.catch_up_state import CatchUpState
from models.webhook_event import HELD, WebhookEvent
from sync.catch_up import NotConnected, catch_up
from sync.stripe_client import account_options
from tests.catch_up_support import (  # noqa: F401  (the *_fixture names are fixtures)
    account_fixture,
    app_fixture,
    live_fixture,
    live_rows,
    recorded_once,
    sandbox_fixture,
    stripe_event_ids,
    stripe_state,
)
from tests.conftest import wait_until
from tests.webhooks_support import deliver

LINE = "4 events arrived while Stripe was disconnected; they will be applied when you reconnect."


@pytest.fixture
def held(app, sandbox, live, account, business) -> list[str]:
    """Our side lost the link (Stripe refused a call) while Stripe kept the account
    connected and its changes kept coming: 3 customers created, one renamed."""
    StripeAccount.for_business(business).mark_disconnected("refused", kind=link_history.REFUSED)
    client, options = sandbox.client(), account_options(account)
    ids = [client.v1.customers.create({"name": f"While away {i}"}, options).id for i in range(3)]
    client.v1.customers.update(ids[0], {"name": "Renamed while away"}, options)
    sandbox.wait_for_deliveries_idle()
    wait_until(lambda: WebhookEvent.select().where(WebhookEvent.outcome == HELD).count() == 4)
    return ids


def _reconnect(business, account) -> None:
    StripeAccount.attach(business, account, False)


def test_held_events_belong_to_the_business_and_change_nothing(held, business):
    rows = list(WebhookEvent.select())
    assert {row.business_id for row in rows} == {business.id}
    assert all(row.outcome == HELD for row in rows)
    assert live_rows(business) == {}


def test_the_stripe_page_says_they_wait_for_a_reconnect(held, client, logged_in):
    page = client.get("/stripe").get_data(as_text=True)
    assert LINE in page
    panel = client.get("/stripe/health").get_data(as_text=True)
    assert LINE in panel


def test_catch_up_cannot_apply_them_while_disconnected(held, app, business):
    with pytest.raises(NotConnected):
        catch_up(business.id, app.config, trigger="test")
    assert WebhookEvent.select().where(WebhookEvent.outcome == HELD).count() == 4


def test_catch_up_after_a_reconnect_applies_them_once(
    held, app, sandbox, account, business, client, logged_in
):
    _reconnect(business, account)
    result = catch_up(business.id, app.config, trigger="import")
    assert live_rows(business) == stripe_state(sandbox, account)
    assert recorded_once(stripe_event_ids(sandbox, account))
    assert result.recovered >= 3 and result.already_recorded == 0
    assert WebhookEvent.select().where(WebhookEvent.outcome == HELD).count() == 0
    assert "will be applied when you reconnect" not in client.get("/stripe").get_data(as_text=True)
    # Once only: Stripe delivering one of them again, or another catch-up, changes nothing.
    again = WebhookEvent.get(WebhookEvent.type == "customer.created")
    event = json.loads(again.payload)
    response = deliver(client, event, secret=app.config["STRIPE_WEBHOOK_SECRET"])
    assert response.json == {"outcome": "applied", "duplicate": True}
    assert catch_up(business.id, app.config, trigger="test").recovered == 0


def test_held_events_older_than_the_listing_are_applied_from_their_payload(
    held, app, sandbox, account, business
):
    _reconnect(business, account)
    # The mark is past them: Stripe's list will not bring them back, the stored copies do.
    CatchUpState.update(mark=int(time.time()) + 600).execute()
    result = catch_up(business.id, app.config, trigger="import")
    assert result.listed == 0 and result.recovered >= 3
    assert live_rows(business) == stripe_state(sandbox, account)


def test_after_a_switch_they_are_no_longer_waiting(held, app, sandbox, business, client, logged_in):
    other = sandbox.create_account(name="Other shop")
    StripeAccount.attach(business, other, False)
    assert "will be applied when you reconnect" not in client.get("/stripe").get_data(as_text=True)
    catch_up(business.id, app.config, trigger="import")
    rows = list(WebhookEvent.select())
    assert {row.outcome for row in rows} == {"ignored"}
    assert all("switched accounts" in row.error for row in rows)
