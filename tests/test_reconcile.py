"""Reconciliation: every drifted row corrected through the one writer, rows gone from
Stripe marked deleted only once a retrieve confirms it, resumed after a crash, within
its announced cost, one check at a time, and scheduled per link."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from peewee import IntegrityError

from models import Customer
from models.db import db, db_clock
from models.import_run import SUCCEEDED
from models.migrations import migrate
from models.stripe_account import StripeAccount
from models.sync_check import CATCH_UP, RECONCILE, SyncCheck
from models.user import utcnow
from sync import sync_jobs, sync_now
from sync.reconcile import list_requests
from tests.conftest import database_at
from tests.import_support import app, assert_mirrors, imported, sandbox, wait_until
from tests.reconcile_support import drift, imported_account, reconcile_now

__all__ = ["app", "sandbox"]


class ProcessKilled(BaseException):
    """Stands in for a killed process: nothing below it gets to record anything."""


def test_reconciliation_corrects_every_drifted_row(app, sandbox, business):
    account = imported_account(app, sandbox, business, 250)
    changes = drift(sandbox, account, business)

    check = reconcile_now(app, business)

    assert check.status == SUCCEEDED, check.last_error
    assert_mirrors(sandbox, account, business)
    assert sorted(row[0] for row in imported(business, deleted=True)) == sorted(changes.deleted)
    assert check.corrected == changes.to_correct
    assert check.marked_deleted == len(changes.deleted)
    # Every customer Stripe listed, and every row it did not list (confirmed one by one).
    assert check.checked == 248 + len(changes.deleted)
    assert check.finished_at is not None


def test_nothing_differs_nothing_is_corrected(app, sandbox, business):
    imported_account(app, sandbox, business, 120)
    check = reconcile_now(app, business)
    assert (check.checked, check.corrected, check.marked_deleted) == (120, 0, 0)


def test_rows_are_marked_deleted_only_when_stripe_confirms(app, sandbox, business):
    account = imported_account(app, sandbox, business, 150)
    changes = drift(sandbox, account, business)
    app.config.update(IMPORT_REQUEST_ATTEMPTS=2)
    # Lists work, every retrieve fails: Stripe has not confirmed any deletion.
    sandbox.configure(retrieve_error_rate=1.0)
    check = reconcile_now(app, business)
    assert check.status == "failed"
    assert "Stripe" in check.last_error
    assert imported(business, deleted=True) == []
    assert check.marked_deleted == 0

    sandbox.configure(retrieve_error_rate=0.0)
    check = reconcile_now(app, business)
    assert check.status == SUCCEEDED, check.last_error
    assert sorted(row[0] for row in imported(business, deleted=True)) == sorted(changes.deleted)


def test_a_row_stripe_never_had_is_marked_deleted_after_a_404(app, sandbox, business):
    imported_account(app, sandbox, business, 30)
    ghost = Customer.create(
        business=business,
        name="Ghost",
        stripe_customer_id="cus_neverexisted",
        customer_since=1_700_000_000,
        stripe_version_at=1_700_000_000,
        stripe_version_source=0,
    )
    check = reconcile_now(app, business)
    assert check.status == SUCCEEDED, check.last_error
    assert Customer.get_by_id(ghost.id).deleted_in_stripe_at is not None
    assert check.marked_deleted == 1


def test_requests_stay_within_the_estimate(app, sandbox, business):
    account = imported_account(app, sandbox, business, 1_250)
    changes = drift(sandbox, account, business)
    estimate = list_requests(Customer.for_business(business).count())

    check = reconcile_now(app, business)

    assert check.estimate == estimate
    confirms = len(changes.deleted)
    assert math.ceil(1_241 / 100) + confirms <= check.requests <= check.estimate + confirms


def _crash_after(pages: int):
    def hook(run) -> None:
        if run.refresh().pages >= pages:
            raise ProcessKilled

    return hook


def test_a_crashed_reconciliation_resumes_where_it_stopped(app, sandbox, business):
    account = imported_account(app, sandbox, business, 1_500)
    changes = drift(sandbox, account, business)
    with pytest.raises(ProcessKilled):
        reconcile_now(app, business, on_progress=_crash_after(4))
    check = SyncCheck.get()
    assert check.status == "running"  # the dead process could not say otherwise
    spent = check.requests
    assert 0 < check.checked < 1_500

    SyncCheck.update(heartbeat_at=utcnow() - timedelta(minutes=10)).execute()
    requeued, started = sync_jobs.sweep()
    assert requeued == [check.id] and started == []
    check = wait_until(lambda: SyncCheck.get_or_none(SyncCheck.status == SUCCEEDED), timeout=60)

    assert_mirrors(sandbox, account, business)
    assert check.corrected == changes.to_correct
    assert check.marked_deleted == len(changes.deleted)
    # Resumed, not restarted: it did not read the committed pages again.
    assert check.requests - spent < list_requests(1_500) - 3


def test_one_check_at_a_time_and_a_second_start_joins_it(app, sandbox, business):
    imported_account(app, sandbox, business, 20)
    first, queued = sync_now.start(business.id, RECONCILE, app.config, reason="owner")
    again, queued_again = sync_now.start(business.id, CATCH_UP, app.config, reason="owner")
    assert queued and not queued_again
    assert again.id == first.id
    with pytest.raises(IntegrityError):
        SyncCheck.create(business=business, status="running", queued_at=utcnow())


def test_no_check_without_a_connected_link(app, sandbox, business):
    account = imported_account(app, sandbox, business, 5)
    StripeAccount.update(status="disconnected").where(StripeAccount.account_id == account).execute()
    with pytest.raises(sync_now.CannotSync, match="Reconnect"):
        sync_now.start(business.id, RECONCILE, app.config, reason="owner")
    assert SyncCheck.select().count() == 0


def test_reconciliations_fall_due_per_link(app, sandbox, business):
    imported_account(app, sandbox, business, 5)
    app.config.update(SYNC_RECONCILE_EVERY=3600)
    assert sync_now.due(app.config) == []  # just connected: the import read everything
    StripeAccount.update(connected_at=db_clock() - timedelta(hours=2)).execute()
    assert sync_now.due(app.config) == [(business.id, "schedule")]

    _, started = sync_jobs.sweep()
    assert started == [business.id]
    check = wait_until(lambda: SyncCheck.get_or_none(SyncCheck.status == SUCCEEDED))
    assert (check.kind, check.reason, check.checked) == (RECONCILE, "schedule", 5)
    assert sync_now.due(app.config) == []


@pytest.mark.sqlite_only
def test_migration_0015_adds_sync_checks_beside_import_runs(tmp_path):
    database_at(tmp_path, 12)
    db.execute_sql(
        "INSERT INTO import_run (business_id, status, queued_at, heartbeat_at)"
        " VALUES (1, 'running', '2026-01-01', '2026-01-01')"
    )
    assert 15 in migrate(db)
    assert db.execute_sql("SELECT status FROM import_run").fetchone() == ("running",)
    insert = (
        "INSERT INTO sync_check (business_id, status, queued_at, heartbeat_at)"
        " VALUES (1, ?, '2026-01-01', '2026-01-01')"
    )
    db.execute_sql(insert, ("running",))  # beside the running import: its own table
    db.execute_sql(insert, ("succeeded",))
    with pytest.raises(IntegrityError):
        db.execute_sql(insert, ("queued",))  # one active check per business


def test_a_check_started_for_an_earlier_link_writes_nothing(app, sandbox, business):
    account = imported_account(app, sandbox, business, 40)
    changes = drift(sandbox, account, business)
    check, _ = sync_now.start(business.id, RECONCILE, app.config, reason="owner")
    StripeAccount.attach(business, account, livemode=False)  # a reconnect meanwhile
    check = sync_now.take_and_execute(check.id, app.config)
    assert check.status == "failed" and "reconnected or switched" in check.last_error
    assert imported(business, deleted=True) == []
    assert Customer.select().where(Customer.name == "Edited behind its back").count() == len(
        changes.edited
    )


def test_an_interrupted_check_of_an_earlier_link_is_not_resumed(app, sandbox, business):
    account = imported_account(app, sandbox, business, 1_200)
    with pytest.raises(ProcessKilled):
        reconcile_now(app, business, on_progress=_crash_after(2))
    old = SyncCheck.get()
    SyncCheck.update(status="interrupted").execute()
    StripeAccount.attach(business, account, livemode=False)  # reconnected meanwhile

    check, queued = sync_now.start(business.id, RECONCILE, app.config, reason="owner")

    assert queued and check.id != old.id
    old = old.refresh()
    assert old.status == "failed" and "reconnected or switched" in old.last_error
    assert check.generation == StripeAccount.get().generation
