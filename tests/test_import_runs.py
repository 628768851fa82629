"""Import runs as jobs on the queue: one at a time per business (in the database), a
task delivered twice runs the import once, resumed after a crash without duplicates or
gaps by exactly one sweep, handed back when a worker stops, fenced off when another
worker took the run over, retried after transient failures, and the m0005 migration."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from peewee import IntegrityError

from app import create_app
from models import Customer
from models.db import db, db_now
from models.import_run import ImportRun
from models.migrations import migrate
from models.user import utcnow
from sync import import_jobs, importer, jobs
from tests.conftest import database_at
from tests.import_support import app, assert_mirrors, link, sandbox, wait_for_run, wait_until

__all__ = ["app", "sandbox"]


class ProcessKilled(BaseException):
    """Stands in for a killed process: nothing below it gets to record anything."""


def _crash_after(pages: int):
    def hook(run: ImportRun) -> None:
        if run.refresh().pages >= pages:
            raise ProcessKilled

    return hook


def _make_stale(run_id: int) -> None:
    ImportRun.update(heartbeat_at=utcnow() - timedelta(minutes=10)).where(
        ImportRun.id == run_id
    ).execute()


def test_a_killed_run_resumes_where_it_stopped(app, sandbox, business):
    account = sandbox.create_account(customers=3000)
    link(business, account)
    with pytest.raises(ProcessKilled):
        importer.run_in_foreground(business.id, app.config, on_page=_crash_after(7))
    run = ImportRun.get()
    assert run.status == "running"  # the dead process could not say otherwise
    assert 0 < Customer.select().count() < 3000
    plan = run.plan
    assert any(s["after"] for s in plan["slices"]) and not all(s["done"] for s in plan["slices"])

    _make_stale(run.id)
    assert import_jobs.sweep() == [run.id]
    run = wait_for_run(run.id)
    assert run.status == "succeeded", run.last_error
    assert_mirrors(sandbox, account, business)
    # Resuming re-read nothing it had committed: a restart from scratch would have
    # re-applied the first 700 customers as updates.
    assert run.created == 3000
    assert run.updated < 100


def test_a_fresh_heartbeat_is_left_alone_until_it_goes_stale(app, sandbox, business):
    account = sandbox.create_account(customers=500)
    link(business, account)
    app.config.update(IMPORT_STALE_AFTER=3)
    with pytest.raises(ProcessKilled):
        importer.run_in_foreground(business.id, app.config, on_page=_crash_after(1))
    # Its process may be alive (a worker restarted moments after it died looks the same).
    assert import_jobs.sweep() == []
    assert ImportRun.get().status == "running"
    # The sweep looks again once the heartbeat would be stale, and resumes it then.
    run = wait_for_run(ImportRun.get().id, statuses=("succeeded",))
    assert_mirrors(sandbox, account, business)
    assert run.created == 500


def test_two_processes_cannot_both_resume_a_run(app, business):
    run = ImportRun.create(business=business, status="interrupted")
    assert ImportRun.requeue(run.id, from_status="interrupted")
    assert not ImportRun.requeue(run.id, from_status="interrupted")
    assert run.claim(from_status="queued")
    assert not ImportRun.get_by_id(run.id).claim(from_status="queued")


def test_a_task_delivered_twice_runs_the_import_once(app, sandbox, business):
    account = sandbox.create_account(customers=700)
    link(business, account)
    run, queued = importer.queue_import(business.id, app.config, "connect")
    assert queued  # no task was enqueued: the test delivers it, three times at once
    threads = [
        threading.Thread(target=import_jobs.run_import.call_local, args=(run.id,)) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run = run.refresh()
    assert run.status == "succeeded", run.last_error
    assert (run.created, run.updated, run.seen) == (700, 0, 700)
    assert_mirrors(sandbox, account, business)


def test_a_stopping_worker_hands_its_run_back_and_the_next_one_resumes(app, sandbox, business):
    account = sandbox.create_account(customers=2000)
    link(business, account)
    # 2.7 requests a second: the 20 pages take over 7 s, so the stop lands midway even on
    # a loaded machine.
    app.config.update(STRIPE_RATE_LIMIT=3, IMPORT_WORKERS=2)
    run_id = import_jobs.start_import(business.id, config=app.config).id
    wait_until(lambda: ImportRun.get_by_id(run_id).pages >= 2, message="two pages")
    jobs.stop_consumer()
    stopped = ImportRun.get_by_id(run_id)
    assert (stopped.status, stopped.owner_token) == ("queued", None)
    assert 0 < stopped.pages < 20
    app.config.update(STRIPE_RATE_LIMIT=0)
    jobs.start_consumer(2)  # the next worker (its task was requeued on stopping)
    run = wait_for_run(run_id)
    assert run.status == "succeeded", run.last_error
    assert (run.created, run.updated) == (2000, 0)  # no committed page was read again
    assert_mirrors(sandbox, account, business)


def test_a_worker_that_lost_its_run_writes_nothing(app, sandbox, business):
    link(business, sandbox.create_account(customers=300))
    run = ImportRun.create(business=business, status="queued")
    assert run.claim(from_status="queued")
    # Presumed dead (stale), requeued and taken by another worker meanwhile.
    assert ImportRun.requeue(run.id, from_status="running")
    assert ImportRun.get_by_id(run.id).claim(from_status="queued")
    importer.execute(run, app.config)  # the first worker wakes up with its old claim
    assert Customer.select().count() == 0
    assert ImportRun.get_by_id(run.id).status == "running"  # still the other's
    assert not ImportRun.beat(run.id, run.owner_token)


def test_a_heartbeat_revives_a_run_wrongly_marked_interrupted(app, business):
    run = ImportRun.create(business=business, status="queued")
    assert run.claim(from_status="queued")
    ImportRun.update(status="interrupted").where(ImportRun.id == run.id).execute()
    assert ImportRun.beat(run.id, run.owner_token)
    assert ImportRun.get_by_id(run.id).status == "running"


def test_staleness_is_measured_by_the_database_clock(app, business):
    run = ImportRun.create(business=business, status="running")
    ImportRun.update(heartbeat_at=db_now(-5)).where(ImportRun.id == run.id).execute()
    assert ImportRun.mark_stale_interrupted(10) == 0
    assert not ImportRun.get_by_id(run.id).is_stale(10)
    assert ImportRun.get_by_id(run.id).is_stale(3)
    assert ImportRun.mark_stale_interrupted(3) == 1
    assert ImportRun.get_by_id(run.id).status == "interrupted"


def test_start_up_resumes_interrupted_runs_unless_disabled(app, sandbox, business, tmp_path):
    account = sandbox.create_account(customers=400)
    link(business, account)
    app.config.update(IMPORT_RESUME_ON_START=False)  # this process's sweeps stay out of it
    with pytest.raises(ProcessKilled):
        importer.run_in_foreground(business.id, app.config, on_page=_crash_after(1))
    run_id = ImportRun.get().id
    _make_stale(run_id)
    config = {
        k: app.config[k]
        for k in ("TESTING", "SECRET_KEY", "DATABASE_URL", "JOBS_QUEUE", "AUTO_MIGRATE")
    }
    # A restarted process of the embedded layout: it runs its own jobs.
    config.update(STRIPE_SANDBOX_URL=sandbox.url, STRIPE_RATE_LIMIT=0, JOBS_IN_PROCESS="1")

    create_app({**config, "IMPORT_RESUME_ON_START": False})
    assert ImportRun.get_by_id(run_id).status == "running"

    create_app(config)  # a restarted process: its consumer's first sweep resumes the run
    assert wait_for_run(run_id).status == "succeeded"
    assert_mirrors(sandbox, account, business)


def test_one_import_at_a_time_per_business(app, sandbox, business):
    account = sandbox.create_account(customers=2000)
    link(business, account)
    app.config.update(STRIPE_RATE_LIMIT=50)  # slow enough to still be running
    first = import_jobs.start_import(business.id, config=app.config)
    second = import_jobs.start_import(business.id, config=app.config, reason="reconnect")
    assert second.id == first.id
    assert wait_for_run(first.id).status == "succeeded"
    assert ImportRun.select().count() == 1
    assert_mirrors(sandbox, account, business)


def test_the_database_refuses_a_second_active_run(app, business):
    ImportRun.create(business=business, status="running")
    with pytest.raises(IntegrityError), db.atomic():
        ImportRun.create(business=business, status="queued")
    ImportRun.create(business=business, status="failed")  # finished runs don't count


def test_a_transient_failure_retries_itself(app, sandbox, business):
    account = sandbox.create_account(customers=300)
    link(business, account)
    sandbox.configure(error_rate=1.0)
    app.config.update(IMPORT_REQUEST_ATTEMPTS=2, IMPORT_RETRY_DELAYS=(1.0,))
    run = wait_for_run(import_jobs.start_import(business.id, config=app.config).id)
    assert run.status == "failed"
    assert run.last_error.startswith("Stripe answered with an error (500)")
    assert run.retry_at is not None
    sandbox.configure(error_rate=0.0)  # Stripe recovers before the retry fires
    run = wait_for_run(run.id, statuses=("succeeded",))
    assert run.attempts == 2
    assert_mirrors(sandbox, account, business)


def test_retries_stop_after_the_configured_number(app, sandbox, business):
    link(business, sandbox.create_account(customers=10))
    sandbox.configure(error_rate=1.0)
    app.config.update(IMPORT_REQUEST_ATTEMPTS=1, IMPORT_RETRY_DELAYS=(0.05, 0.05))
    run_id = import_jobs.start_import(business.id, config=app.config).id
    run = wait_until(lambda: _given_up(run_id))
    assert run.attempts == 3
    assert run.last_error.startswith("Stripe answered with an error (500)")


def _given_up(run_id: int) -> ImportRun | None:
    run = ImportRun.get_by_id(run_id)
    return run if run.status == "failed" and run.retry_at is None else None


def test_migration_0005_keeps_existing_data(tmp_path):
    database_at(tmp_path, 4)
    with db.connection_context():
        db.execute_sql(
            "INSERT INTO customer (business_id, name, email, stripe_customer_id,"
            " customer_since, created_at, updated_at)"
            " VALUES (1, 'Ada', 'ada@example.com', 'cus_1', 1700000000, '2026-01-01', '2026-01-01')"
        )
        assert 5 in migrate(db)
        assert Customer.get().stripe_customer_id == "cus_1"
        run = ImportRun.create(business=1)
        assert ImportRun.latest_for(1).id == run.id
        with pytest.raises(IntegrityError), db.atomic():
            ImportRun.create(business=1)


def test_heartbeats_go_on_through_rate_limit_waits(app, sandbox, business):
    account = sandbox.create_account(customers=1000)
    link(business, account)
    # Under two requests a second: probing the account (several requests, no page to
    # write) waits far longer than the run may stay silent.
    app.config.update(STRIPE_RATE_LIMIT=2, IMPORT_STALE_AFTER=1)
    run_id = import_jobs.start_import(business.id, config=app.config).id
    marked = []

    def watch() -> ImportRun | None:
        marked.append(ImportRun.mark_stale_interrupted(1))
        run = ImportRun.get_by_id(run_id)
        return run if run.status in ("succeeded", "failed") else None

    run = wait_until(watch, timeout=60, message="the run ending")
    assert run.status == "succeeded", run.last_error
    # The run outlived its stale window (1 s) three times over, watched throughout (how
    # many looks that took depends on the machine), and never looked dead.
    assert (run.finished_at - run.started_at).total_seconds() > 3
    assert len(marked) > 1 and set(marked) == {0}
    assert run.attempts == 1
    assert_mirrors(sandbox, account, business)
