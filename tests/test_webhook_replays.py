"""Our own replays of a failed webhook event: the schedule covers Stripe's three days,
each replay is a task on the real queue with its delay and is recorded on the event's
row, one schedule per event, and after the last replay the event is shown to its owner
with a Replay action (CSRF-checked, the owner's own events only, audited).

The app runs no consumer here (``JOBS_IN_PROCESS=0``): the scheduled replays stay in
the queue (SQLite file, or Redis on the Postgres run) to be inspected, and each test
runs the replay it means to with ``call_local``. Stripe fails for real: the sandbox
answers every request with a 5xx, so a ``customer.tax_id.*`` event, which re-fetches the
customer, cannot be applied."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from models import Business, StripeAccount, User, webhook_replays
from models.audit_log import AuditEntry
from models.db import db
from models.migrations import migrate
from models.user import utcnow
from models.webhook_event import APPLIED, FAILED, WebhookEvent
from stripe_sandbox.testing import SandboxServer
from sync import jobs, replay_schedule
from sync.stripe_client import account_options
from sync.webhooks import replay_event
from tests.conftest import PASSWORD, database_at, wait_until
from tests.webhooks_support import deliver, make_event, webhook_app


@pytest.fixture
def sandbox():
    with SandboxServer() as server:
        yield server


@pytest.fixture
def app(tmp_path, sandbox):
    return webhook_app(tmp_path, STRIPE_SANDBOX_URL=sandbox.url, JOBS_IN_PROCESS="0")


@pytest.fixture
def account(sandbox, business) -> str:
    account = sandbox.create_account(name="Roof shop")
    StripeAccount.create(business=business, account_id=account)
    return account


@pytest.fixture
def customer(sandbox, account) -> str:
    return sandbox.client().v1.customers.create({"name": "Ada"}, account_options(account)).id


def tax_id_event(account: str, customer: str) -> dict:
    obj = {"id": "txi_1", "object": "tax_id", "customer": customer, "value": "DE123456789"}
    return make_event("customer.tax_id.created", obj, account=account)


def row(event: dict) -> WebhookEvent:
    return WebhookEvent.get(WebhookEvent.event_id == event["id"])


def scheduled_replays(event: dict | None = None) -> list:
    """Replays (of ``event``, if given) waiting in the queue: a task with a delay waits
    among the pending ones until a consumer moves it to the schedule."""
    waiting = [*jobs.huey.pending(), *jobs.huey.scheduled()]
    return [
        task
        for task in waiting
        if task.name == "replay_event" and (event is None or task.args[0]["id"] == event["id"])
    ]


def only_replay(event: dict):
    """The one replay of ``event`` waiting in the queue. Waited for: a stopping consumer
    of an earlier test in this process may hold it for a moment before handing it back."""
    wait_until(lambda: len(scheduled_replays(event)) == 1)
    return scheduled_replays(event)[0]


def close_to(moment, seconds: float) -> bool:
    return abs((moment - utcnow()).total_seconds() - seconds) < 30


@pytest.fixture
def failed(client, sandbox, account, customer) -> dict:
    """A delivery that failed: Stripe answers 5xx to the re-fetch of the customer."""
    sandbox.configure(error_rate=1.0)
    event = tax_id_event(account, customer)
    response = deliver(client, event)
    assert (response.status_code, response.json["outcome"]) == (503, FAILED)
    return event


def test_the_schedule_starts_at_a_second_grows_to_hourly_and_covers_three_days():
    delays = replay_schedule.DELAYS
    assert delays[0] == 1.0
    assert list(delays) == sorted(delays) and max(delays) == 3600.0
    assert sum(delays) >= timedelta(days=3).total_seconds()
    assert sum(delays[:-1]) < timedelta(days=3).total_seconds()  # and no longer
    assert replay_schedule.ATTEMPTS == len(delays) == 83


def test_a_failed_delivery_schedules_our_first_replay_a_second_later(failed):
    stored = row(failed)
    assert (stored.outcome, stored.replay_attempts) == (FAILED, 0)
    assert "Stripe" in stored.error and close_to(stored.next_replay_at, 1)
    task = only_replay(failed)
    assert task.args[0]["id"] == failed["id"] and task.args[2] == 1
    assert close_to(task.eta, 1)


def test_a_failed_replay_records_its_attempt_and_schedules_the_next(failed):
    payload = json.dumps(failed).encode()
    jobs.huey.flush()
    replay_event.call_local(failed, payload, 1)
    assert row(failed).replay_attempts == 1 and close_to(row(failed).next_replay_at, 2)
    task = only_replay(failed)
    assert task.args[2] == 2 and close_to(task.eta, 2)
    jobs.huey.flush()
    replay_event.call_local(failed, payload, 12)  # the delays have reached the hour
    assert row(failed).replay_attempts == 12 and close_to(row(failed).next_replay_at, 3600)
    task = only_replay(failed)
    assert task.args[2] == 13 and close_to(task.eta, 3600)


def test_a_second_failed_delivery_does_not_start_a_second_schedule(client, failed):
    again = deliver(client, failed)  # Stripe's own retry, failing too
    assert again.status_code == 503
    assert len(scheduled_replays()) == 1
    assert row(failed).attempts == 2  # both deliveries are counted


def test_an_older_schedule_of_the_same_event_stops(failed):
    payload = json.dumps(failed).encode()
    replay_event.call_local(failed, payload, 5)
    jobs.huey.flush()
    replay_event.call_local(failed, payload, 3)  # a duplicate schedule, behind
    assert row(failed).replay_attempts == 5
    assert scheduled_replays() == []


def test_a_replay_applies_the_event_once_stripe_answers(sandbox, failed):
    sandbox.configure(error_rate=0.0)
    jobs.huey.flush()
    replay_event.call_local(failed, json.dumps(failed).encode(), 1)
    stored = row(failed)
    assert (stored.outcome, stored.next_replay_at) == (APPLIED, None)
    assert scheduled_replays() == []


def test_after_the_last_replay_nothing_is_due_and_the_owner_sees_it(client, logged_in, failed):
    assert "no longer retried" not in client.get("/stripe/health").get_data(as_text=True)
    jobs.huey.flush()
    replay_event.call_local(failed, json.dumps(failed).encode(), replay_schedule.ATTEMPTS)
    stored = row(failed)
    assert (stored.outcome, stored.next_replay_at) == (FAILED, None)
    assert stored.replay_attempts == replay_schedule.ATTEMPTS
    assert scheduled_replays() == []
    html = client.get("/stripe/health").get_data(as_text=True)
    assert "1 change from Stripe could not be applied and is no longer retried" in html
    listed = re.search(r'id="not-retried-(\d+)".*?</tr>', html, re.S)
    assert listed and int(listed.group(1)) == stored.id
    assert "customer.tax_id.created" in listed.group(0) and ">83<" in listed.group(0)
    assert f"/stripe/events/{stored.id}/replay" in listed.group(0)


def test_a_lost_schedule_is_shown_and_a_new_failure_starts_another(client, logged_in, failed):
    WebhookEvent.update(next_replay_at=utcnow() - timedelta(hours=2)).execute()
    assert "no longer retried" in client.get("/stripe/health").get_data(as_text=True)
    jobs.huey.flush()
    assert deliver(client, failed).status_code == 503
    wait_until(lambda: len(scheduled_replays(failed)) == 1)
    assert close_to(row(failed).next_replay_at, 1)


def not_retried(event: dict) -> WebhookEvent:
    replay_event.call_local(event, json.dumps(event).encode(), replay_schedule.ATTEMPTS)
    return row(event)


def test_the_owner_replays_it_and_the_replay_is_audited(client, logged_in, sandbox, failed):
    stored = not_retried(failed)
    sandbox.configure(error_rate=0.0)
    headers = {"HX-Request": "true", "X-CSRFToken": logged_in}
    response = client.post(f"/stripe/events/{stored.id}/replay", headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="sync-health"' in html and "Replayed customer.tax_id.created: Applied." in html
    assert "no longer retried" not in html
    assert row(failed).outcome == APPLIED
    [entry] = AuditEntry.select().where(AuditEntry.action == "webhook.replayed")
    assert entry.actor_id == User.get(User.email == "owner@example.com").id
    assert failed["id"] in entry.summary


def test_a_replay_that_fails_again_restarts_the_automatic_replays(client, logged_in, failed):
    stored = not_retried(failed)
    jobs.huey.flush()
    response = client.post(f"/stripe/events/{stored.id}/replay", data={"csrf_token": logged_in})
    assert response.status_code == 302 and response.headers["Location"].endswith("/stripe")
    page = client.get("/stripe").get_data(as_text=True)
    assert "it still could not be applied, and is retried automatically again" in page
    assert (row(failed).replay_attempts, len(scheduled_replays())) == (0, 1)


def test_replay_needs_the_csrf_token(client, logged_in, failed):
    stored = not_retried(failed)
    response = client.post(f"/stripe/events/{stored.id}/replay")
    assert response.status_code == 400
    assert row(failed).outcome == FAILED and AuditEntry.select().count() == 0


def test_another_business_cannot_replay_the_event(client, auth, failed, sandbox):
    stored = not_retried(failed)
    sandbox.configure(error_rate=0.0)
    User.create_owner("other@example.com", PASSWORD, "Other Roofing")
    auth.login(email="other@example.com")
    token = auth.csrf_token()
    assert "Other Roofing" in client.get("/stripe").get_data(as_text=True)
    response = client.post(f"/stripe/events/{stored.id}/replay", data={"csrf_token": token})
    assert response.status_code == 404
    assert row(failed).outcome == FAILED and AuditEntry.select().count() == 0
    assert Business.select().count() == 3  # the owner's two and the other one


def test_only_a_failed_event_can_be_replayed(client, logged_in, sandbox, failed):
    stored = not_retried(failed)
    sandbox.configure(error_rate=0.0)
    headers = {"HX-Request": "true", "X-CSRFToken": logged_in}
    client.post(f"/stripe/events/{stored.id}/replay", headers=headers)
    again = client.post(f"/stripe/events/{stored.id}/replay", headers=headers)
    assert "Only failed events can be replayed; this one is “Applied”." in again.get_data(
        as_text=True
    )
    assert AuditEntry.select().where(AuditEntry.action == "webhook.replayed").count() == 1


@pytest.mark.sqlite_only  # an upgrade of a SQLite deployment's file
def test_migration_0017_keeps_events_and_marks_old_failures_not_retried(tmp_path):
    database_at(tmp_path, 16)
    with db.connection_context():
        for event_id, outcome in (("evt_ok", "applied"), ("evt_bad", "failed")):
            db.execute_sql(
                "INSERT INTO webhook_event (event_id, type, business_id, created, received_at,"
                " outcome, payload) VALUES (?, 'customer.created', 1, 1, ?, ?, '{}')",
                (event_id, str(utcnow()), outcome),
            )
        assert 17 in migrate(db)
        rows = db.execute_sql(
            "SELECT event_id, outcome, replay_attempts, next_replay_at FROM webhook_event"
            " ORDER BY id"
        ).fetchall()
        assert rows == [("evt_ok", "applied", 0, None), ("evt_bad", "failed", 0, None)]
        # A failure from before our replays is nobody's to retry: the owner sees it.
        assert [e.event_id for e in webhook_replays.no_longer_retried(1, [])] == ["evt_bad"]
        plan = db.execute_sql(
            "EXPLAIN QUERY PLAN SELECT * FROM webhook_event WHERE business_id = 1"
            " AND outcome = 'failed' ORDER BY received_at DESC"
        ).fetchall()
        assert "webhook_event_failed" in str(plan)
