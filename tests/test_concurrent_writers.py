"""Concurrent writers, each on its own connection, apply conflicting versions of the
same customers at the same time, and older data must never win; one event delivered
many times at once is applied once. On SQLite writers take turns on the database's
write lock; on Postgres they do not, so there this is the test that matters: each
write decides against the committed row under its row lock."""

from __future__ import annotations

import json
import random
import threading

import pytest

from models import Customer, StripeAccount
from models.db import db
from models.webhook_event import WebhookEvent
from sync import webhooks
from sync.customers import Change, apply_changes
from sync.ordering import Source, Version
from tests.webhooks_support import ACCOUNT, make_event, stripe_customer

CUSTOMERS = 60
VERSIONS = 6  # per customer: seconds 1001 … 1006


def _change(n: int, second: int, source: Source) -> Change:
    customer = {
        "id": f"cus_{n:03d}",
        "object": "customer",
        "name": f"v{second}",
        "email": f"c{n}@example.com",
        "created": 1_700_000_000 + n,
    }
    return Change(customer, Version(second, source))


def _at_once(tasks) -> tuple[list, list[BaseException]]:
    """Run each task in its own thread and connection, all released at once by a
    barrier; returns their results and the errors they raised."""
    barrier = threading.Barrier(len(tasks))
    results: list = []
    errors: list[BaseException] = []

    def run(task):
        try:
            with db.connection_context():
                barrier.wait()
                results.append(task())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(task,)) for task in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def _run_writers(business_id: int, work: list[list[list[Change]]]) -> list[BaseException]:
    """Each writer applies its batches in order; returns the errors they raised."""

    def writer(batches):
        return lambda: [apply_changes(business_id, batch) for batch in batches]

    return _at_once([writer(batches) for batches in work])[1]


@pytest.mark.parametrize("seed", [1, 2, 3], ids=["seed1", "seed2", "seed3"])
def test_two_writers_never_let_older_data_win(business, seed):
    rng = random.Random(seed)
    changes = [
        _change(n, 1000 + k, rng.choice([Source.SNAPSHOT, Source.EVENT]))
        for n in range(CUSTOMERS)
        for k in range(1, VERSIONS + 1)
    ]
    rng.shuffle(changes)
    # Both writers see every customer, in big overlapping batches (as two import pages
    # or webhook bursts would), in different orders.
    halves = [changes[0::2], changes[1::2]]
    work = [[half[i : i + 40] for i in range(0, len(half), 40)] for half in halves]

    assert _run_writers(business.id, work) == []

    rows = Customer.select().where(Customer.business == business).order_by(Customer.id)
    assert len(rows) == CUSTOMERS
    assert {row.name for row in rows} == {f"v{1000 + VERSIONS}"}
    assert {row.stripe_version_at for row in rows} == {1000 + VERSIONS}


def test_a_deletion_racing_updates_stays_final(business):
    apply_changes(business.id, [_change(n, 1000, Source.EVENT) for n in range(CUSTOMERS)])
    deletions = []
    for n in range(CUSTOMERS):
        change = _change(n, 1001, Source.EVENT)
        deletions.append(Change(change.customer, change.version, deleted=True))
    updates = [[_change(n, 1002 + k, Source.EVENT) for n in range(CUSTOMERS)] for k in range(4)]

    assert _run_writers(business.id, [[deletions], updates]) == []

    rows = list(Customer.select().where(Customer.business == business))
    assert len(rows) == CUSTOMERS
    assert all(row.deleted_in_stripe_at is not None for row in rows)
    # A deletion lands whatever came before it (its object is the final state), and
    # no update lands after it: every row ends as the deletion left it.
    assert {(row.name, row.stripe_version_at) for row in rows} == {("v1001", 1001)}


def test_one_event_delivered_many_times_at_once_is_applied_once(app, business):
    StripeAccount.create(business=business, account_id=ACCOUNT)
    event = make_event("customer.created", stripe_customer(name="Once"))
    payload = json.dumps(event).encode()

    results, errors = _at_once(
        [lambda: webhooks.receive(event, payload, app.config) for _ in range(6)]
    )

    assert errors == []
    assert sorted(result.duplicate for result in results) == [False] + [True] * 5
    assert {result.outcome for result in results} == {"applied"}
    stored = WebhookEvent.get(WebhookEvent.event_id == event["id"])
    assert (stored.outcome, stored.attempts) == ("applied", 1)
    assert Customer.select().where(Customer.business == business).count() == 1
