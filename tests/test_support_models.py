"""The support console's model layer: the append-only audit log, Remove's rules and
its tombstone, the Stripe link's history, and migration 0011."""

from __future__ import annotations

from datetime import datetime

import pytest
from peewee import IntegrityError

from models import Customer, StripeAccount, User
from models.audit_log import AppendOnly, AuditEntry
from models.customer_removal import NotRemovable, remove_deleted
from models.db import db
from models.link_history import LinkEvent
from models.migrations import migrate
from sync import connect
from sync.customers import Change, apply_changes
from sync.ordering import Source, Version
from tests.conftest import database_at, make_customer
from tests.webhooks_support import ACCOUNT, deliver, make_event, stripe_customer, webhook_app


@pytest.fixture
def app(tmp_path):
    return webhook_app(tmp_path)


@pytest.fixture
def entry(owner, business) -> AuditEntry:
    return AuditEntry.write(owner, "customer.removed", "Removed Ada", business=business)


# --- The audit log is append-only ----------------------------------------------------


def test_an_entry_cannot_be_saved_again_or_deleted_through_the_model(entry):
    entry.summary = "Nothing happened"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete_instance()
    assert AuditEntry.get_by_id(entry.id).summary == "Removed Ada"


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("UPDATE audit_log SET summary = 'Nothing happened'", id="update"),
        pytest.param("DELETE FROM audit_log", id="delete"),
    ],
)
def test_the_database_refuses_to_change_or_delete_entries(entry, statement):
    with pytest.raises(IntegrityError, match="append-only"), db.atomic():
        db.execute_sql(statement)
    assert AuditEntry.get_by_id(entry.id).summary == "Removed Ada"


def test_query_level_update_and_delete_are_refused_too(entry):
    with pytest.raises(IntegrityError), db.atomic():
        AuditEntry.update(summary="x").execute()
    with pytest.raises(IntegrityError), db.atomic():
        AuditEntry.delete().execute()
    assert AuditEntry.select().count() == 1


def test_an_unknown_action_is_refused(owner):
    with pytest.raises(ValueError, match="unknown audit action"):
        AuditEntry.write(owner, "customer.edited", "x")


def test_an_entry_outlives_its_actor_and_business(entry, owner):
    owner.delete_instance(recursive=True)
    kept = AuditEntry.get_by_id(entry.id)
    assert (kept.actor_email, kept.business_name) == ("owner@example.com", "Shingle Roofing")


# --- Remove: only rows deleted in Stripe -------------------------------------------------


@pytest.fixture
def gone(business) -> Customer:
    return make_customer(
        business, stripe_customer_id="cus_gone", deleted_in_stripe_at=datetime(2026, 3, 1)
    )


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"stripe_customer_id": "cus_live"}, id="live-synced"),
        pytest.param({}, id="created-in-shingleai"),
    ],
)
def test_a_row_not_deleted_in_stripe_can_never_be_removed(owner, business, fields):
    row = make_customer(business, **fields)
    with pytest.raises(NotRemovable, match="cannot be removed"):
        remove_deleted(business, row.id, owner)
    assert Customer.get_by_id(row.id)
    assert AuditEntry.select().count() == 0


def test_another_business_s_row_is_not_found(owner, business, gone):
    other = User.create_owner("o2@example.com", "password12", "Other").businesses.get()
    assert remove_deleted(other, gone.id, owner) is None
    assert Customer.get_by_id(gone.id)


def test_removal_keeps_the_row_s_data_in_the_audit_log(owner, business, gone):
    entry = remove_deleted(business, gone.id, owner)
    assert Customer.get_or_none(Customer.id == gone.id) is None
    kept = entry.details_dict["customer"]
    assert kept["stripe_customer_id"] == "cus_gone" and kept["name"] == "Ada Lovelace"
    assert kept["deleted_in_stripe_at"].startswith("2026-03-01")


@pytest.mark.parametrize("kind", ["customer.created", "customer.updated", "customer.deleted"])
def test_a_late_event_never_brings_a_removed_row_back(client, owner, business, gone, kind):
    StripeAccount.attach(business, ACCOUNT, livemode=False)
    remove_deleted(business, gone.id, owner)
    response = deliver(client, make_event(kind, stripe_customer("cus_gone", name="Back?")))
    assert response.status_code == 200
    assert not Customer.select().where(Customer.stripe_customer_id == "cus_gone").exists()


def test_the_importer_s_writer_skips_removed_rows(owner, business, gone):
    remove_deleted(business, gone.id, owner)
    change = Change(stripe_customer("cus_gone"), Version(2_000_000_000, Source.FETCH))
    result = apply_changes(business.id, [change])
    assert (result.created, result.skipped) == (0, 1)


# --- The link's history ------------------------------------------------------------


def kinds(business) -> list[tuple]:
    steps = LinkEvent.history(business).order_by(LinkEvent.id)
    return [(s.kind, s.account_id, s.previous_account_id) for s in steps]


def test_attach_records_connects_reconnects_and_switches(business):
    link = StripeAccount.attach(business, "acct_A", livemode=False)
    link.mark_disconnected("gone")
    link = StripeAccount.attach(business, "acct_A", livemode=False)
    link.mark_disconnected("gone again")
    StripeAccount.attach(business, "acct_B", livemode=False)
    assert kinds(business) == [
        ("connected", "acct_A", None),
        ("revoked", "acct_A", None),
        ("reconnected", "acct_A", None),
        ("revoked", "acct_A", None),
        ("switched", "acct_B", "acct_A"),
    ]


def test_a_second_disconnection_is_not_recorded_twice(business):
    link = StripeAccount.attach(business, "acct_A", livemode=False)
    assert link.mark_disconnected("first")
    assert not link.mark_disconnected("second")
    assert [s.reason for s in LinkEvent.history(business) if s.kind == "revoked"] == ["first"]


def test_a_deauthorization_webhook_records_a_revocation(client, business):
    StripeAccount.attach(business, ACCOUNT, livemode=False)
    # Connected well before the event, so the revocation is trusted as is.
    StripeAccount.update(connected_at=datetime(2025, 1, 1)).execute()
    application = {"id": "ca_1", "object": "application", "name": "ShingleAI"}
    deliver(client, make_event("account.application.deauthorized", application))
    assert kinds(business)[-1] == ("revoked", ACCOUNT, None)


def test_stripe_refusing_calls_records_a_refusal(business):
    import stripe

    link = StripeAccount.attach(business, ACCOUNT, livemode=False)
    assert connect.record_rejection(link, stripe.PermissionError("no access"))
    last = LinkEvent.history(business).first()
    assert (last.kind, last.reason.startswith("Stripe refused")) == ("refused", True)


# --- Migration 0011 ----------------------------------------------------------------


def test_migration_0011_backfills_link_history_and_keeps_data(tmp_path):
    database_at(tmp_path, 8)
    with db.connection_context():
        db.execute_sql(
            "INSERT INTO user (id, email, password_hash, created_at)"
            " VALUES (2, 'o2@example.com', 'x', '2026-01-01')"
        )
        db.execute_sql(
            "INSERT INTO business (id, owner_id, name, is_primary, created_at)"
            " VALUES (2, 2, 'Two', 1, '2026-01-01')"
        )
        db.execute_sql(
            "INSERT INTO stripe_account (business_id, account_id, status, connected_at)"
            " VALUES (1, 'acct_live', 'connected', '2026-02-01 10:00:00')"
        )
        db.execute_sql(
            "INSERT INTO stripe_account (business_id, account_id, status, connected_at,"
            " disconnected_at, disconnect_reason) VALUES (2, 'acct_cut', 'disconnected',"
            " '2026-02-01 10:00:00', '2026-03-01 09:00:00', 'You disconnected Stripe.')"
        )
        assert 11 in migrate(db)
        assert User.get_by_id(1).role == "owner"
        assert kinds(1) == [("connected", "acct_live", None)]
        assert kinds(2) == [("connected", "acct_cut", None), ("disconnected", "acct_cut", None)]
        assert all(step.backfilled for step in LinkEvent.select())
        with pytest.raises(IntegrityError), db.atomic():
            db.execute_sql(
                "INSERT INTO audit_log (at, actor_id, actor_email, actor_role, action,"
                " summary) VALUES ('2026', 1, 'a', 'support', 'x', 'y')"
            )
            db.execute_sql("DELETE FROM audit_log")
