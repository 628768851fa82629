"""The sync health panel, the webhook_event migration, and a failure that Stripe's
retry repairs."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta

import pytest

from models import Business, Customer, StripeAccount
from models.db import PRAGMAS, database_path, db
from models.migrations import migrate
from models.user import utcnow
from models.webhook_event import WebhookEvent
from tests.conftest import database_at, wait_until
from tests.webhooks_support import (
    ACCOUNT,
    BASE,
    deliver,
    make_event,
    stripe_customer,
    webhook_app,
)


@pytest.fixture
def app(tmp_path):
    return webhook_app(tmp_path, PUBLIC_URL="https://shingle.example/")


@pytest.fixture
def link(business) -> StripeAccount:
    return StripeAccount.create(business=business, account_id=ACCOUNT)


def panel(client) -> str:
    response = client.get("/stripe/health")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_panel_needs_login(client):
    response = client.get("/stripe/health")
    assert response.status_code == 302 and "/login" in response.location


def test_panel_before_any_event(client, link, logged_in):
    html = panel(client)
    assert f"Connected to <code>{ACCOUNT}</code>" in html
    assert "Sync is healthy." in html
    assert "None yet" in html


def test_panel_keeps_operator_set_up_out_of_the_owners_view(client, link, logged_in):
    """The endpoint, its secret and the platform's status are for ShingleAI's
    operators (the support console), not for an owner who can do nothing with them."""
    html = panel(client) + client.get("/stripe").get_data(as_text=True)
    for operator_text in (
        "https://shingle.example/webhooks/stripe",
        "STRIPE_WEBHOOK_SECRET",
        "Add endpoint",
        "No webhook received yet",
    ):
        assert operator_text not in html


def test_panel_counts_and_lists_recent_events(client, link, logged_in):
    deliver(client, make_event("customer.created", stripe_customer("cus_1")))
    deliver(client, make_event("customer.created", stripe_customer("cus_2")))
    deliver(
        client,
        make_event("customer.updated", stripe_customer("cus_2", name="Old"), created=BASE - 1),
    )
    deliver(client, make_event("customer.created", stripe_customer("cus_3"), livemode=True))
    html = panel(client)
    assert "Sync is healthy." in html
    counts = re.sub(r' data-label="[^"]+"', "", html)
    # Outcomes read the same in the counts as in the recent events ("Applied").
    assert "<td>customer.created</td><td>Applied</td><td>2</td>" in counts
    assert "<td>customer.updated</td><td>Skipped (older than stored data)</td><td>1</td>" in counts
    assert "<td>customer.created</td><td>Ignored</td><td>1</td>" in counts
    assert "<code>cus_3</code>" in html
    assert "live-mode event but the app uses test keys" in html
    assert "Skipped (older than stored data)" in html


def test_panel_shows_only_the_owners_business(client, link, logged_in, owner):
    other = Business.get((Business.owner == owner) & ~Business.is_primary)
    WebhookEvent.create(
        event_id="evt_other",
        type="customer.created",
        business=other,
        created=1,
        stripe_customer_id="cus_elsewhere",
        outcome="applied",
        payload="{}",
    )
    assert "cus_elsewhere" not in panel(client)


def test_panel_says_when_stripe_was_disconnected(client, link, logged_in):
    # Connected well before the event, so the revocation is trusted as is.
    StripeAccount.update(connected_at=datetime(2025, 1, 1)).execute()
    application = {"id": "ca_1", "object": "application", "name": "ShingleAI"}
    deliver(client, make_event("account.application.deauthorized", application))
    html = panel(client)
    assert "Stripe disconnected: Access was revoked in Stripe." in html
    assert ">Reconnect</a>" in html
    assert "Disconnected on <time" in html


def test_panel_warns_after_a_quiet_day(client, link, logged_in):
    deliver(client, make_event("customer.created", stripe_customer()))
    WebhookEvent.update(received_at=utcnow() - timedelta(hours=25)).execute()
    html = panel(client)
    assert "No change has arrived from Stripe for 24 h" in html and "contact support" in html
    assert "No events in the last 24 hours." in html


def test_panel_reports_a_failed_import_and_its_retry(client, link, logged_in, business):
    from models.import_run import ImportRun

    ImportRun.create(
        business=business,
        status="failed",
        last_error="rate limited",
        retry_at=datetime(2026, 1, 1, 14, 2),
    )
    html = panel(client)
    assert "Last import failed: rate limited." in html
    # The stored retry time has passed: the panel says so instead of a stale time.
    assert "Retrying now." in html and "14:02" not in html


def test_stripe_page_includes_the_panel(client, link, logged_in):
    html = client.get("/stripe").get_data(as_text=True)
    assert 'id="sync-health"' in html
    assert "/stripe/health" in html


@pytest.mark.sqlite_only
def test_locked_database_answers_503_and_the_replay_applies_it(app, client, link):
    path = database_path(app.config["DATABASE_URL"])
    db.init(path, pragmas={**PRAGMAS, "busy_timeout": 50}, check_same_thread=False)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    event = make_event("customer.created", stripe_customer())
    try:
        response = deliver(client, event)
        assert (response.status_code, response.json["outcome"]) == (503, "failed")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # The replay task applies it from its payload once the lock is released, without
    # waiting for Stripe's retry.
    applied = wait_until(
        lambda: WebhookEvent.get_or_none(
            (WebhookEvent.event_id == event["id"]) & (WebhookEvent.outcome == "applied")
        ),
        timeout=15,
        message="the replay applying the event",
    )
    assert applied.attempts == 1
    assert Customer.get(Customer.stripe_customer_id == event["data"]["object"]["id"])
    retried = deliver(client, event)  # Stripe's own retry is then a duplicate
    assert (retried.status_code, retried.json["outcome"]) == (200, "applied")
    assert retried.json["duplicate"] is True


@pytest.mark.sqlite_only
def test_migration_0006_keeps_existing_data(tmp_path):
    database_at(tmp_path, 5)
    with db.connection_context():
        db.execute_sql(
            "INSERT INTO customer (business_id, name, stripe_customer_id, customer_since,"
            " created_at, updated_at) VALUES (1, 'Ada', 'cus_1', 1, '2026-01-01', '2026-01-01')"
        )
        db.execute_sql(
            "INSERT INTO stripe_account (business_id, account_id, connected_at)"
            " VALUES (1, 'acct_1', '2026-01-01')"
        )
        assert 6 in migrate(db)
        assert db.execute_sql("SELECT name FROM customer").fetchone() == ("Ada",)
        assert db.execute_sql("SELECT account_id FROM stripe_account").fetchone() == ("acct_1",)
        WebhookEvent.create(
            event_id="evt_1",
            type="customer.created",
            business=1,
            created=1,
            outcome="applied",
            payload="{}",
        )
        plan = db.execute_sql(
            "EXPLAIN QUERY PLAN SELECT type, outcome, COUNT(id) FROM webhook_event"
            " WHERE business_id = 1 AND received_at >= '2026' GROUP BY type, outcome"
        ).fetchall()
        assert "COVERING INDEX webhook_event_recent" in str(plan)
