"""POST /webhooks/stripe: signatures, bad input, each event type, duplicates, routing."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime

import pytest

from models import Customer, StripeAccount
from models.webhook_event import WebhookEvent
from tests.webhooks_support import (
    ACCOUNT,
    BASE,
    OLD_SECRET,
    SECRET,
    deliver,
    make_event,
    sign,
    stripe_customer,
    webhook_app,
)


@pytest.fixture
def app(tmp_path):
    """Two signing secrets, as while a secret is being rolled in Stripe."""
    return webhook_app(tmp_path, STRIPE_WEBHOOK_SECRET=f"{SECRET}, {OLD_SECRET}")


@pytest.fixture
def link(business) -> StripeAccount:
    return StripeAccount.create(business=business, account_id=ACCOUNT)


def row(cid="cus_1") -> Customer:
    return Customer.get(Customer.stripe_customer_id == cid)


def created_event(**kwargs):
    return make_event("customer.created", stripe_customer(**kwargs))


# -- signatures ---------------------------------------------------------------------------


def test_valid_signature_applies_the_event(client, link):
    response = deliver(client, created_event())
    assert response.status_code == 200
    assert response.json == {"outcome": "applied", "duplicate": False}
    assert row().name == "Ada"


def _rejected(response, message):
    assert response.status_code == 400
    assert message in response.json["error"]
    assert WebhookEvent.select().count() == 0
    assert Customer.select().count() == 0


def test_wrong_secret_is_rejected(client, link):
    _rejected(deliver(client, created_event(), secret="whsec_someone_else"), "signature")


def test_tampered_body_is_rejected(client, link):
    body = json.dumps(created_event()).encode()
    header = sign(body)
    tampered = body.replace(b'"Ada"', b'"Eve"')
    _rejected(deliver(client, tampered, headers={"Stripe-Signature": header}), "signature")


def test_tampered_timestamp_is_rejected(client, link):
    body = json.dumps(created_event()).encode()
    stamp = int(time.time())
    signature = sign(body, timestamp=stamp).split("v1=")[1]
    header = f"t={stamp + 1},v1={signature}"
    _rejected(deliver(client, body, headers={"Stripe-Signature": header}), "signature")


def test_expired_signature_is_rejected(client, link):
    old = int(time.time()) - 301
    _rejected(deliver(client, created_event(), timestamp=old), "tolerance")


def test_signature_from_beyond_the_future_tolerance_is_rejected(client, link):
    future = int(time.time()) + 301
    _rejected(deliver(client, created_event(), timestamp=future), "future")


def test_missing_signature_is_rejected(client, link):
    _rejected(deliver(client, created_event(), headers={}), "signature")


def test_one_valid_signature_among_several_is_enough(client, link):
    body = json.dumps(created_event()).encode()
    stamp = int(time.time())
    good = sign(body, timestamp=stamp).split("v1=")[1]
    bad = sign(body, "whsec_other", timestamp=stamp).split("v1=")[1]
    header = f"t={stamp},v1={bad},v1={good},v0=ignored"
    assert deliver(client, body, headers={"Stripe-Signature": header}).status_code == 200
    assert row().name == "Ada"


def test_either_configured_secret_verifies(client, link):
    assert deliver(client, created_event(cid="cus_1"), secret=OLD_SECRET).status_code == 200
    assert deliver(client, created_event(cid="cus_2"), secret=SECRET).status_code == 200
    assert Customer.select().count() == 2


def test_no_login_or_csrf_token_is_needed_but_other_posts_still_need_one(client, link):
    assert deliver(client, created_event()).status_code == 200
    assert client.post("/logout").status_code == 400


# -- bad input ------------------------------------------------------------------------------


def test_body_over_one_megabyte_is_refused(client, link):
    body = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    response = deliver(client, body)
    assert response.status_code == 413
    assert WebhookEvent.select().count() == 0


def test_oversized_body_without_content_length_is_refused_while_read(client, link):
    body = b"x" * (1024 * 1024 + 10)
    response = client.post(
        "/webhooks/stripe",
        input_stream=io.BytesIO(body),
        headers={"Stripe-Signature": sign(body), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a Stripe event"),
        (b'{"object": "event", "id": "evt_1"}', "no valid 'type'"),
    ],
)
def test_malformed_bodies_are_refused(client, link, body, message):
    _rejected(deliver(client, body), message)


def test_body_that_is_not_utf8_is_refused(client, link):
    header = {"Stripe-Signature": f"t={int(time.time())},v1=00"}
    _rejected(deliver(client, b"\xff\xfe", headers=header), "UTF-8")


def test_customer_event_without_a_customer_is_refused(client, link):
    event = make_event("customer.updated", {"object": "customer"})
    _rejected(deliver(client, event), "no customer object")


# -- event types ----------------------------------------------------------------------------


def test_created_then_updated_then_deleted(client, link):
    deliver(client, created_event())
    updated = stripe_customer(name="Ada King", email="ada@king.example")
    deliver(client, make_event("customer.updated", updated, created=BASE + 5))
    assert (row().name, row().email) == ("Ada King", "ada@king.example")
    assert row().customer_since == datetime.fromtimestamp(BASE, UTC).replace(tzinfo=None)
    response = deliver(client, make_event("customer.deleted", updated, created=BASE + 9))
    assert response.json["outcome"] == "applied"
    assert row().deleted_in_stripe_at == datetime.fromtimestamp(BASE + 9, UTC).replace(tzinfo=None)
    assert Customer.select().count() == 1


def test_deleted_row_is_badged_and_filterable(client, link, logged_in):
    deliver(client, make_event("customer.deleted", stripe_customer(name="Gone Ltd")))
    deliver(client, created_event(cid="cus_2", name="Still Here"))
    page = client.get("/customers?sync=deleted").get_data(as_text=True)
    assert "Gone Ltd" in page and "Still Here" not in page
    assert "Deleted" in page


def test_older_event_never_overwrites_newer_data(client, link):
    deliver(client, make_event("customer.updated", stripe_customer(name="New"), created=BASE + 2))
    response = deliver(client, make_event("customer.updated", stripe_customer(name="Old")))
    assert response.json["outcome"] == "skipped_stale"
    assert row().name == "New"


def test_update_after_delete_does_not_resurrect(client, link):
    deliver(client, make_event("customer.deleted", stripe_customer(name="Final")))
    later = make_event("customer.updated", stripe_customer(name="Back"), created=BASE + 60)
    assert deliver(client, later).json["outcome"] == "skipped_stale"
    assert row().name == "Final" and row().deleted_in_stripe_at is not None


def test_deauthorized_disconnects_the_link(client, link):
    # A revocation clearly after the connection is trusted without asking Stripe.
    StripeAccount.update(connected_at=datetime(2025, 1, 1)).execute()
    application = {"id": "ca_platform", "object": "application", "name": "ShingleAI"}
    event = make_event("account.application.deauthorized", application, created=BASE + 7)
    assert deliver(client, event).json["outcome"] == "applied"
    stored = StripeAccount.get_by_id(link.id)
    assert stored.status == "disconnected"
    assert stored.disconnect_reason == "Access was revoked in Stripe"
    assert stored.disconnected_at == datetime.fromtimestamp(BASE + 7, UTC).replace(tzinfo=None)
    # Nothing more is applied once the link is gone: later changes wait for a reconnect.
    assert deliver(client, created_event()).json["outcome"] == "held"
    assert Customer.select().count() == 0


def test_event_types_the_app_does_not_use_are_ignored(client, link):
    event = make_event("charge.succeeded", {"id": "ch_1", "object": "charge"})
    assert deliver(client, event).json["outcome"] == "ignored"
    assert "not an event this app uses" in WebhookEvent.get().error


# -- idempotency and routing ----------------------------------------------------------------


def test_a_duplicate_is_answered_and_not_applied_again(client, link):
    event = created_event()
    assert deliver(client, event).json == {"outcome": "applied", "duplicate": False}
    Customer.update(name="Edited here").execute()
    assert deliver(client, event).json == {"outcome": "applied", "duplicate": True}
    assert row().name == "Edited here"
    stored = WebhookEvent.get()
    assert (stored.event_id, stored.attempts) == (event["id"], 1)
    assert (stored.type, stored.account_id, stored.stripe_customer_id) == (
        "customer.created",
        ACCOUNT,
        "cus_1",
    )
    assert json.loads(stored.payload)["data"]["object"]["name"] == "Ada"


def test_unknown_account_is_recorded_as_ignored(client, link):
    response = deliver(client, make_event("customer.created", stripe_customer(), account="acct_x"))
    assert (response.status_code, response.json["outcome"]) == (200, "ignored")
    stored = WebhookEvent.get()
    assert "acct_x" in stored.error and stored.business_id is None
    assert Customer.select().count() == 0


def test_a_change_from_a_disconnected_account_is_held_for_its_business(client, link):
    link.mark_disconnected("Disconnected by the owner")
    assert deliver(client, created_event()).json["outcome"] == "held"
    assert Customer.select().count() == 0
    stored = WebhookEvent.get()
    assert stored.business_id == link.business_id and "reconnected" in stored.error


def test_a_deauthorization_while_disconnected_is_ignored_not_held(client, link):
    link.mark_disconnected("Disconnected by the owner")
    application = {"id": "ca_platform", "object": "application", "name": "ShingleAI"}
    event = make_event("account.application.deauthorized", application)
    assert deliver(client, event).json["outcome"] == "ignored"


def test_a_change_from_an_account_switched_away_from_is_ignored(client, link):
    link.mark_disconnected("gone")
    StripeAccount.update(account_id="acct_1Other").execute()
    assert deliver(client, created_event()).json["outcome"] == "ignored"


def test_livemode_that_does_not_match_the_keys_is_ignored(client, link):
    event = make_event("customer.created", stripe_customer(), livemode=True)
    assert deliver(client, event).json["outcome"] == "ignored"
    stored = WebhookEvent.get()
    assert "live-mode event but the app uses test keys" in stored.error
    assert stored.business_id == link.business_id
    assert Customer.select().count() == 0
