"""The link's generation and the fence every write and disconnect checks
(models/stripe_account.py), on the real database of the run (SQLite or Postgres)."""

from __future__ import annotations

import threading

import pytest

from models import Customer
from models.db import db, write_transaction
from models.link_history import LinkEvent
from models.migrations import migrate
from models.stripe_account import NO_LINK, LinkFence, StaleLink, StripeAccount
from sync.customers import Change, apply_changes
from sync.ordering import Source, Version
from tests.conftest import database_at, wait_until


def change(cid="cus_1", name="Ada", at=500):
    customer = {"id": cid, "object": "customer", "name": name, "created": 1_700_000_000}
    return Change(customer, Version(at, Source.SNAPSHOT))


def test_every_attach_bumps_the_generation(business):
    first = StripeAccount.attach(business, "acct_A", livemode=False, seen_generation=NO_LINK)
    assert first.generation == 1
    assert StripeAccount.fence_for(business) == LinkFence(business.id, "acct_A", 1)
    first.mark_disconnected("gone")
    assert StripeAccount.fence_for(business) is None
    again = StripeAccount.attach(business, "acct_A", livemode=False, seen_generation=1)
    switched = StripeAccount.attach(business, "acct_B", livemode=False, seen_generation=2)
    assert (again.generation, switched.generation) == (2, 3)
    assert StripeAccount.fence_for(business) == LinkFence(business.id, "acct_B", 3)


@pytest.mark.parametrize("seen", [NO_LINK, 2])
def test_attach_is_refused_when_the_link_is_not_the_one_read(business, seen):
    StripeAccount.attach(business, "acct_A", livemode=False)
    with pytest.raises(StaleLink):
        StripeAccount.attach(business, "acct_B", livemode=False, seen_generation=seen)
    link = StripeAccount.for_business(business)
    assert (link.account_id, link.generation) == ("acct_A", 1)
    assert [e.kind for e in LinkEvent.history(business)] == ["connected"]


def test_a_fenced_write_lands_while_its_link_is_current(business):
    fence = StripeAccount.attach(business, "acct_A", livemode=False).fence
    assert apply_changes(business.id, [change()], fence=fence).created == 1


@pytest.mark.parametrize("then", ["reconnected", "switched", "disconnected"])
def test_a_fenced_write_is_refused_once_the_link_changed(business, then):
    link = StripeAccount.attach(business, "acct_A", livemode=False)
    fence = link.fence
    if then == "disconnected":
        link.mark_disconnected("gone")
    else:
        account = "acct_A" if then == "reconnected" else "acct_B"
        StripeAccount.attach(business, account, livemode=False, seen_generation=1)
    with pytest.raises(StaleLink):
        apply_changes(business.id, [change()], fence=fence)
    with pytest.raises(StaleLink):  # even with nothing to write
        apply_changes(business.id, [], fence=fence)
    assert Customer.select().count() == 0


def test_a_fence_of_another_business_is_a_programming_error(business):
    fence = LinkFence(business.id + 1, "acct_A", 1)
    with pytest.raises(ValueError, match="another business"):
        apply_changes(business.id, [change()], fence=fence)


def test_a_stale_disconnect_leaves_the_new_link_alone(business):
    stale = StripeAccount.attach(business, "acct_A", livemode=False)
    StripeAccount.attach(business, "acct_A", livemode=False, seen_generation=1)
    assert stale.mark_disconnected("an old run was refused") is False
    link = StripeAccount.for_business(business)
    assert link.is_connected and link.generation == 2


def _waiting_on_a_lock() -> bool:
    row = db.execute_sql(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    ).fetchone()
    return row[0] > 0


@pytest.mark.postgres_only  # SQLite's write transaction excludes every other writer
def test_an_attach_waits_for_a_fenced_write_in_flight(business):
    """The check and the write are one transaction: an attach waits on the link row's
    share lock and lands after it, so the write is never made for a link that is
    already replaced."""
    fence = StripeAccount.attach(business, "acct_A", livemode=False).fence
    holding, attached = threading.Event(), threading.Event()

    def switch():
        with db.connection_context():
            holding.wait(10)
            StripeAccount.attach(business, "acct_B", livemode=False, seen_generation=1)
        attached.set()

    thread = threading.Thread(target=switch)
    thread.start()
    with write_transaction():
        StripeAccount.hold(fence)
        holding.set()
        wait_until(_waiting_on_a_lock, message="the attach waiting on the link row")
        assert not attached.is_set()
        apply_changes(business.id, [change()], fence=fence)
    wait_until(attached.is_set, timeout=30)
    thread.join()
    assert StripeAccount.fence_for(business).account_id == "acct_B"
    with pytest.raises(StaleLink):
        apply_changes(business.id, [change(at=600)], fence=fence)


def test_migration_0013_numbers_links_and_assigns_runs(tmp_path):
    database_at(tmp_path, 12)
    db.execute_sql(
        "INSERT INTO stripe_account (business_id, account_id, livemode, status,"
        " connected_at) VALUES (1, 'acct_1', 0, 'connected', '2026-01-01')"
    )
    for status in ("interrupted", "succeeded"):
        db.execute_sql(
            "INSERT INTO import_run (business_id, status, reason, queued_at, heartbeat_at,"
            " seen, created, updated, pages, progress, attempts, phase, skipped)"
            f" VALUES (1, '{status}', 'connect', '2026-01-01', '2026-01-01', 0, 0, 0, 0, 0,"
            " 1, 'slices', 0)"
        )
    db.execute_sql(
        "INSERT INTO connect_attempt (business_id, state_hash, created_at, livemode)"
        " VALUES (1, 'h', '2026-01-01', 0)"
    )
    assert 13 in migrate(db)
    assert db.execute_sql("SELECT generation FROM stripe_account").fetchall() == [(1,)]
    runs = db.execute_sql("SELECT status, account_id, generation FROM import_run ORDER BY id")
    assert runs.fetchall() == [("interrupted", "acct_1", 1), ("succeeded", None, None)]
    assert db.execute_sql("SELECT link_generation FROM connect_attempt").fetchall() == [(None,)]
    assert migrate(db) == []
