"""apply_changes: the one writer of Stripe data into customer rows."""

from datetime import UTC, datetime

from models import Business, Customer
from sync.customers import Change, apply_changes
from sync.ordering import Source, Version
from tests.conftest import make_customer


def stripe_customer(cid="cus_1", name="Ada", email="ada@example.com", created=1_700_000_000):
    return {"id": cid, "object": "customer", "name": name, "email": email, "created": created}


def snapshot(customer, at):
    return Change(customer, Version(at, Source.SNAPSHOT))


def event(customer, at, deleted=False):
    return Change(customer, Version(at, Source.EVENT), deleted=deleted)


def row(business, cid="cus_1") -> Customer:
    return Customer.get((Customer.business == business) & (Customer.stripe_customer_id == cid))


def test_inserts_new_customers_in_bulk(business):
    result = apply_changes(
        business.id,
        [snapshot(stripe_customer(f"cus_{i}", created=1_700_000_000 + i), 500) for i in range(3)],
    )
    assert (result.created, result.updated, result.skipped) == (3, 0, 0)
    stored = row(business, "cus_2")
    assert (stored.name, stored.email) == ("Ada", "ada@example.com")
    assert stored.customer_since == datetime(2023, 11, 14, 22, 13, 22)
    assert (stored.stripe_version_at, stored.stripe_version_source) == (500, Source.SNAPSHOT)


def test_missing_name_and_email_are_stored_as_null(business):
    apply_changes(business.id, [snapshot(stripe_customer(name=None, email=""), 500)])
    assert (row(business).name, row(business).email) == (None, None)


def test_newer_event_updates_and_older_snapshot_is_skipped(business):
    apply_changes(business.id, [snapshot(stripe_customer(name="Old"), 500)])
    result = apply_changes(business.id, [event(stripe_customer(name="New"), 501)])
    assert result.updated == 1
    result = apply_changes(business.id, [snapshot(stripe_customer(name="Stale"), 501)])
    assert result.skipped == 1
    assert row(business).name == "New"


def test_same_second_events_are_reported_as_ties(business):
    apply_changes(business.id, [event(stripe_customer(name="A"), 600)])
    result = apply_changes(business.id, [event(stripe_customer(name="B"), 600)])
    assert result.ties == ["cus_1"]
    assert row(business).name == "A"
    apply_changes(business.id, [Change(stripe_customer(name="B"), Version(601, Source.FETCH))])
    assert row(business).name == "B"


def test_deletion_marks_the_row_and_nothing_resurrects_it(business):
    apply_changes(business.id, [event(stripe_customer(name="A"), 600)])
    result = apply_changes(business.id, [event(stripe_customer(name="A"), 590, deleted=True)])
    assert result.deleted == 1
    assert row(business).deleted_in_stripe_at == datetime.fromtimestamp(590, UTC).replace(
        tzinfo=None
    )
    result = apply_changes(business.id, [event(stripe_customer(name="Back"), 700)])
    assert result.skipped == 1
    assert row(business).name == "A"
    assert Customer.select().count() == 1


def test_deletion_of_an_unknown_customer_keeps_a_marked_row(business):
    result = apply_changes(business.id, [event(stripe_customer(), 600, deleted=True)])
    assert (result.created, result.deleted) == (0, 1)
    assert row(business).deleted_in_stripe_at is not None


def test_a_local_edit_is_overwritten_by_stripes_next_change(business):
    apply_changes(business.id, [event(stripe_customer(name="Stripe"), 600)])
    Customer.update(name="Edited here").where(Customer.stripe_customer_id == "cus_1").execute()
    apply_changes(business.id, [event(stripe_customer(name="Stripe again"), 601)])
    assert row(business).name == "Stripe again"


def test_changes_never_touch_another_business(business, owner):
    other = Business.get((Business.owner == owner) & ~Business.is_primary)
    make_customer(other, stripe_customer_id="cus_1", name="Other business")
    apply_changes(business.id, [event(stripe_customer(name="Mine"), 600)])
    assert row(other).name == "Other business"
    assert row(business).name == "Mine"


def test_one_batch_may_hold_the_same_customer_twice(business):
    result = apply_changes(
        business.id,
        [event(stripe_customer(name="First"), 600), event(stripe_customer(name="Second"), 601)],
    )
    assert result.created == 1
    assert row(business).name == "Second"


def test_nothing_to_apply(business):
    assert apply_changes(business.id, []).created == 0


def test_a_deletion_stub_marks_the_row_and_its_update_time(business):
    apply_changes(business.id, [event(stripe_customer(name="A"), 600)])
    before = row(business).updated_at
    stub = {"id": "cus_1", "object": "customer", "deleted": True}
    result = apply_changes(business.id, [Change(stub, Version(700, Source.FETCH), deleted=True)])
    assert result.deleted == 1
    assert row(business).name == "A"
    assert row(business).deleted_in_stripe_at is not None
    assert row(business).updated_at > before


def test_the_upsert_rendered_once_is_the_one_peewee_builds(business):
    # The writer renders its upsert once per page size and only fills in the values:
    # it must send what peewee would build for those very rows, on either backend.
    from sync import customers

    now = datetime(2026, 1, 2, 3, 4, 5, 600000)
    deleted = datetime(2026, 1, 1)
    for count in (1, 3):
        rows = [
            (f'{{"id":"cus_{i}"}}', "Ada", None, 1_700_000_000 + i, 500 + i, int(Source.FETCH))
            for i in range(count)
        ]
        rows = [
            (*written, now, deleted if i % 2 else None, business.id, f"cus_{i}", now)
            for i, written in enumerate(rows)
        ]
        assert customers._upsert_sql(rows) == customers._upsert_query(rows).sql()
