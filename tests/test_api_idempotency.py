"""Idempotency-Key on POST /customers behaves as in Stripe's API: a retry replays
the first answer and never creates a second row, even when the retries race."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests

from models import Customer
from models.idempotency import IdempotencyKey
from models.user import utcnow
from tests.api_support import (  # noqa: F401  (fixtures)
    API,
    bearer,
    issue_token,
    secret_fixture,
)

ADA = {"name": "Ada", "email": "ada@example.com"}


def create(client, secret, body, key):
    headers = {**bearer(secret), "Idempotency-Key": key}
    return client.post(f"{API}/customers", json=body, headers=headers)


def test_retry_replays_the_first_answer(client, secret):
    first = create(client, secret, ADA, "key-1")
    again = create(client, secret, {"email": "ada@example.com", "name": "Ada"}, "key-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Customer.select().count() == 1


def test_same_key_with_other_parameters_is_400_idempotency_error(client, secret):
    create(client, secret, ADA, "key-1")
    response = create(client, secret, {"name": "Bob", "email": "bob@example.com"}, "key-1")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "idempotency_error"
    assert error["field"] == "Idempotency-Key"
    assert "key-1" in error["message"]
    assert Customer.select().count() == 1


def test_a_new_key_after_a_success_reports_the_duplicate_email(client, secret):
    first = create(client, secret, ADA, "key-1").get_json()
    response = create(client, secret, ADA, "key-2")
    assert response.status_code == 409
    assert response.get_json()["error"]["customer_id"] == first["id"]


def test_a_conflict_is_replayed_too(client, secret, business):
    Customer.create(business=business, name="A", email="ada@example.com", customer_since=1)
    first = create(client, secret, ADA, "key-9")
    Customer.delete().execute()
    again = create(client, secret, ADA, "key-9")
    assert first.status_code == again.status_code == 409
    assert again.get_json() == first.get_json()
    assert Customer.select().count() == 0


def test_validation_failures_are_not_remembered(client, secret):
    assert (
        create(client, secret, {"name": "", "email": "ada@example.com"}, "key-1").status_code == 422
    )
    assert create(client, secret, ADA, "key-1").status_code == 201
    assert IdempotencyKey.select().count() == 1


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "tab\tkey"])
def test_bad_keys_are_400(client, secret, key):
    response = create(client, secret, ADA, key)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "Idempotency-Key"
    assert Customer.select().count() == 0


def test_keys_are_scoped_per_business(client, secret, owner, business):
    from models import Business, User

    other = User.create_owner("other@example.com", "password123", "Other Co")
    other_secret = issue_token(other, Business.primary_for(other))
    create(client, secret, ADA, "shared-key")
    response = create(client, other_secret, {"name": "Bo", "email": "bo@example.com"}, "shared-key")
    assert response.status_code == 201
    assert response.get_json()["name"] == "Bo"


def test_keys_expire_after_24_hours(client, secret):
    create(client, secret, ADA, "old-key")
    IdempotencyKey.update(created_at=utcnow() - timedelta(hours=25)).execute()
    response = create(client, secret, {"name": "Bob", "email": "bob@example.com"}, "old-key")
    assert response.status_code == 201
    assert Customer.select().count() == 2


def race(count: int, send) -> list:
    """Run ``send`` in ``count`` threads released at the same moment; their answers."""
    barrier = threading.Barrier(count)
    answers = []

    def run():
        barrier.wait()
        answers.append(send())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_concurrent_retries_over_http_make_one_row(live_server, secret):
    """Eight agents retrying at once with one key: one row, eight identical answers."""
    headers = {**bearer(secret), "Idempotency-Key": "race-key"}
    url = f"{live_server.url}{API}/customers"
    answers = race(8, lambda: requests.post(url, json=ADA, headers=headers, timeout=30))
    assert [a.status_code for a in answers] == [201] * 8
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 7
    assert Customer.select().count() == 1


def test_concurrent_creates_without_key_still_refuse_a_duplicate_email(live_server, secret):
    url = f"{live_server.url}{API}/customers"
    answers = race(6, lambda: requests.post(url, json=ADA, headers=bearer(secret), timeout=30))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5
    assert Customer.select().count() == 1
