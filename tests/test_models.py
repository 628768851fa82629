"""Customer validation, filter terms, and the list queries (counts, search, pages)."""

from __future__ import annotations

import pytest

from models.customer import SYNC_FILTERS, Customer, validate_fields
from models.customer_list import (
    PAGE_SIZE,
    BadCursor,
    change_marker,
    list_page,
    parse_cursor,
    stats,
)
from models.customer_search import EXACT_LIMIT
from models.demo import seed_customers
from models.user import utcnow
from tests.conftest import make_customer
from tests.customer_states import one_of_each_state


@pytest.mark.parametrize(
    ("name", "email", "errors"),
    [
        ("Ada", "ada@example.com", set()),
        ("", "ada@example.com", {"name"}),
        ("  ", "ada@example.com", {"name"}),
        ("x" * 257, "ada@example.com", {"name"}),
        ("Ada", "", {"email"}),
        ("Ada", "not-an-email", {"email"}),
        ("Ada", "a b@example.com", {"email"}),
        ("Ada", "ada@localhost", {"email"}),
        (None, None, {"name", "email"}),
    ],
)
def test_validate_fields(name, email, errors):
    assert set(validate_fields(name, email)) == errors


def test_sync_condition_rejects_unknown_filter():
    with pytest.raises(ValueError, match="unknown sync filter"):
        Customer.sync_condition("everything")


@pytest.fixture
def mixed(business):
    states = one_of_each_state(business)
    return {
        "not_synced": states["direct"],
        "synced": states["synced"],
        "deleted": states["deleted"],
    }


@pytest.mark.parametrize("sync", SYNC_FILTERS)
def test_each_filter_lists_exactly_its_rows_and_counts_them(business, mixed, sync):
    expected = set(mixed) if sync == "all" else {sync}
    result = list_page(business.id, sync=sync)
    assert {row.name for row in result.rows} == {mixed[key].name for key in expected}
    assert result.total == len(expected) == stats(business.id)[sync]


def test_counts_follow_updates_and_deletes(business, mixed):
    Customer.update(deleted_in_stripe_at=utcnow()).where(
        Customer.id == mixed["synced"].id
    ).execute()
    mixed["not_synced"].delete_instance()
    assert {k: stats(business.id)[k] for k in SYNC_FILTERS} == {
        "all": 2,
        "synced": 0,
        "not_synced": 0,
        "deleted": 2,
    }


def test_change_marker_grows_on_every_write(business):
    before = change_marker(business.id)
    customer = make_customer(business)
    after_insert = change_marker(business.id)
    Customer.update(name="Renamed").where(Customer.id == customer.id).execute()
    assert before < after_insert < change_marker(business.id)


def test_other_business_rows_never_listed(owner, business):
    other = owner.businesses.where(~owner.businesses.model.is_primary).get()
    make_customer(other, name="Hidden Lovelace")
    make_customer(business, name="Seen Lovelace")
    for q in ("", "Lovelace", "lo"):
        assert [row.name for row in list_page(business.id, q=q).rows] == ["Seen Lovelace"]


def test_order_is_newest_first_with_ties_by_id(business):
    ids = [make_customer(business, customer_since=1_700_000_000).id for _ in range(3)]
    newest = make_customer(business, customer_since=1_800_000_000).id
    assert [row.id for row in list_page(business.id).rows] == [newest, *sorted(ids, reverse=True)]


@pytest.mark.parametrize(
    "q", ["lovelace", "LOVELACE", "ovel", "example.org", "ace@ex", "Lo", "e@e"]
)
def test_search_is_case_insensitive_substring_of_name_or_email(business, q):
    make_customer(business, name="Ada Lovelace", email="ada.lovelace@example.org")
    make_customer(business, name="Grace Hopper", email="grace@navy.test")
    assert [row.name for row in list_page(business.id, q=q).rows] == ["Ada Lovelace"]


def test_search_sees_edits_through_the_index_triggers(business):
    customer = make_customer(business, name="Old Name")
    Customer.update(name="Brand New").where(Customer.id == customer.id).execute()
    assert list_page(business.id, q="Old Name").rows == []
    assert [row.id for row in list_page(business.id, q="rand ne").rows] == [customer.id]
    customer.delete_instance()
    assert list_page(business.id, q="rand ne").rows == []


def test_search_with_quotes_and_wildcards_is_literal(business):
    make_customer(business, name='The "Best" 100% Co_op')
    make_customer(business, name="Plain")
    for q in ('"Best"', "100%", "o_o", "%", "_"):
        assert [row.name for row in list_page(business.id, q=q).rows] == [
            'The "Best" 100% Co_op'
        ], q


def test_search_combines_with_filter(business, mixed):
    result = list_page(business.id, q="sam", sync="synced")
    assert [row.name for row in result.rows] == ["Sam Synced"]
    assert list_page(business.id, q="sam", sync="deleted").rows == []


def test_pages_by_cursor_and_by_offset_agree(business):
    seed_customers(business.id, PAGE_SIZE * 3 + 7)
    everything = [
        row.id
        for row in Customer.for_business(business).order_by(
            Customer.customer_since.desc(), Customer.id.desc()
        )
    ]
    first = list_page(business.id)
    assert [r.id for r in first.rows] == everything[:PAGE_SIZE] and first.has_next
    second = list_page(business.id, page=2, after=parse_cursor(first.next_cursor))
    assert [r.id for r in second.rows] == everything[PAGE_SIZE : 2 * PAGE_SIZE]
    assert (second.first, second.last) == (PAGE_SIZE + 1, 2 * PAGE_SIZE)
    by_offset = list_page(business.id, page=4)
    assert [r.id for r in by_offset.rows] == everything[3 * PAGE_SIZE :]
    assert not by_offset.has_next and by_offset.total == len(everything)
    back = list_page(business.id, page=1, before=parse_cursor(second.prev_cursor))
    assert [r.id for r in back.rows] == everything[:PAGE_SIZE]


def test_frequent_search_is_paged_but_not_counted(business, monkeypatch):
    monkeypatch.setattr("models.customer_search.EXACT_LIMIT", 10)
    seed_customers(business.id, 120)
    result = list_page(business.id, q="test")  # every seeded email ends in .test
    assert len(result.rows) == PAGE_SIZE and result.has_next and result.total is None
    assert EXACT_LIMIT > 10


@pytest.mark.parametrize("value", ["x", "1.", ".2", "a.b", "1-2"])
def test_bad_cursor_is_refused(value):
    with pytest.raises(BadCursor):
        parse_cursor(value)
