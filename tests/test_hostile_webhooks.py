"""Hostile webhooks with a VALID signature (issue 10, item 14): each gets a 400,
stores nothing and changes nothing. Import pages: tests/test_import_hostile.py."""

from __future__ import annotations

import json
import time

import pytest

from models import Customer, StripeAccount
from models.webhook_event import WebhookEvent
from sync.customer_input import InvalidCustomer, check_customer
from tests.webhooks_support import (
    ACCOUNT,
    BASE,
    SECRET,
    deliver,
    make_event,
    sign,
    stripe_customer,
    webhook_app,
)


@pytest.fixture
def app(tmp_path):
    return webhook_app(tmp_path)


@pytest.fixture
def link(business) -> StripeAccount:
    return StripeAccount.create(business=business, account_id=ACCOUNT)


@pytest.fixture
def known(client, link) -> Customer:
    """A customer already synced, which no hostile delivery may change."""
    assert deliver(client, make_event("customer.created", stripe_customer())).status_code == 200
    return Customer.get(Customer.stripe_customer_id == "cus_1")


def _snapshot() -> tuple:
    rows = Customer.select().order_by(Customer.id).tuples()
    return list(rows), WebhookEvent.select().count()


def _nested(depth: int) -> bytes:
    return b'{"object": "event", "data": ' + b"[" * depth + b"]" * depth + b"}"


def _event_body(**customer) -> bytes:
    obj = {**stripe_customer(name="Mallory"), **customer}
    return json.dumps(make_event("customer.updated", obj, created=BASE + 10)).encode()


HOSTILE = {
    "nested 50,000 deep": _nested(50_000),
    "lone surrogate name": _event_body(name="\ud800"),
    "lone surrogate email": _event_body(email="a\udfff@example.com"),
    "created 2**63": _event_body(created=2**63),
    "created 10**12": _event_body(created=10**12),
    "created before Stripe": _event_body(created=1_000_000),
    "created a string": _event_body(created="1760000000"),
    "created true": _event_body(created=True),
    "name a number": _event_body(name=12),
    "name of 5,000 characters": _event_body(name="x" * 5000),
    "metadata value a list": _event_body(metadata={"a": ["b"]}),
    "metadata of 51 keys": _event_body(metadata={f"k{i}": "v" for i in range(51)}),
    "id with a space": _event_body(id="cus 1"),
    "object nested 30 deep": _event_body(address=json.loads("[" * 30 + "]" * 30)),
    "event created 2**63": json.dumps(
        make_event("customer.updated", stripe_customer(name="Mallory"), created=2**63)
    ).encode(),
    "event id a lone surrogate": json.dumps(
        make_event("customer.updated", stripe_customer(name="Mallory"), event_id="evt_\ud800")
    ).encode(),
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_signed_hostile_event_is_refused_and_changes_nothing(client, known, logged_in, body):
    before = _snapshot()
    response = deliver(client, body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.is_json and response.json["error"]
    assert _snapshot() == before
    assert client.get("/customers/changes").status_code in (200, 204)


@pytest.mark.parametrize(
    "header",
    [
        "t={t}=x,v1={sig}",
        "t={t},t={t},v1={sig}",
        "t= {t},v1={sig}",
        "t={t},v1={sig}=",
        "t=0x10,v1={sig}",
    ],
    ids=["t=<ok>=x", "two t", "space", "v1 with =", "hex t"],
)
def test_a_malformed_signature_header_with_a_valid_signature_is_refused(client, known, header):
    body = _event_body(name="Mallory")
    stamp = int(time.time())
    signature = sign(body, SECRET, stamp).split("v1=")[1]
    before = _snapshot()
    response = deliver(
        client, body, headers={"Stripe-Signature": header.format(t=stamp, sig=signature)}
    )
    assert response.status_code == 400
    assert _snapshot() == before


def test_after_a_refused_created_of_10_to_the_12_the_list_api_and_import_still_work(
    client, known, logged_in
):
    assert deliver(client, _event_body(created=10**12)).status_code == 400
    assert client.get("/customers").status_code == 200
    assert Customer.get_by_id(known.id).customer_since.year < 2100


@pytest.mark.parametrize(
    "obj",
    [
        {"id": "cus_1", "object": "customer", "deleted": True},
        stripe_customer(),
        {**stripe_customer(), "phone": "+1 555", "metadata": {"plan": "gold"}},
        {**stripe_customer(), "created": int(time.time()) + 3600},
    ],
    ids=["deletion stub", "plain", "phone and metadata", "an hour ahead"],
)
def test_valid_customer_objects_pass(obj):
    assert check_customer(obj) is obj


def test_tomorrow_is_the_latest_created():
    with pytest.raises(InvalidCustomer, match="between 2009-01-01 and tomorrow"):
        check_customer(stripe_customer(created=int(time.time()) + 2 * 86_400))
