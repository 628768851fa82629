"""The ordering rule for Stripe data (sync/ordering.py), case by case."""

import pytest

from sync.ordering import (
    Decision,
    Source,
    Version,
    decide,
    fetch_version,
    settles,
    snapshot_version,
)

S, E, F = Source.SNAPSHOT, Source.EVENT, Source.FETCH


@pytest.mark.parametrize(
    ("incoming", "stored", "expected"),
    [
        (Version(100, S), None, Decision.APPLY),
        (Version(100, E), None, Decision.APPLY),
        # A later second wins and an earlier one loses, whatever the sources.
        (Version(101, S), Version(100, E), Decision.APPLY),
        (Version(101, E), Version(100, F), Decision.APPLY),
        (Version(99, E), Version(100, S), Decision.SKIP),
        (Version(99, F), Version(100, E), Decision.SKIP),
        # Within one second.
        (Version(100, S), Version(100, S), Decision.APPLY),
        (Version(100, S), Version(100, E), Decision.SKIP),
        (Version(100, S), Version(100, F), Decision.SKIP),
        (Version(100, E), Version(100, S), Decision.APPLY),
        (Version(100, E), Version(100, E), Decision.TIE),
        # The fetch read after every change of its second: the event is older.
        (Version(100, E), Version(100, F), Decision.SKIP),
        (Version(100, F), Version(100, E), Decision.APPLY),
        (Version(100, F), Version(100, F), Decision.APPLY),
    ],
)
def test_decide(incoming, stored, expected):
    assert decide(incoming, stored) is expected


@pytest.mark.parametrize("source", list(Source))
def test_a_deleted_row_takes_no_update(source):
    assert decide(Version(10**10, source), Version(1, S), stored_deleted=True) is Decision.SKIP


def test_a_page_read_in_a_second_loses_to_an_event_of_that_second():
    page = snapshot_version(100)
    assert decide(Version(100, E), page) is Decision.APPLY
    assert decide(page, Version(100, E)) is Decision.SKIP
    assert decide(page, Version(99, E)) is Decision.APPLY


def test_a_retrieve_read_in_a_second_loses_to_an_event_of_that_second():
    """The event may have changed the customer after the read (item 2 of issue 15)."""
    fetch = fetch_version(100)
    assert decide(fetch, Version(100, E)) is Decision.SKIP
    assert decide(Version(100, E), fetch) is Decision.APPLY
    assert decide(fetch, Version(99, E)) is Decision.APPLY
    assert decide(Version(99, E), fetch) is Decision.SKIP


@pytest.mark.parametrize(
    ("read_second", "tied", "expected"),
    [(100, 100, False), (101, 100, True), (105, 100, True), (100, 99, True)],
    ids=["read-in-the-tied-second", "read-in-the-next", "read-later", "tied-before"],
)
def test_a_tie_is_settled_only_by_a_read_after_its_second(read_second, tied, expected):
    assert settles(read_second, tied) is expected
