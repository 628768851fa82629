"""The ordering rule for Stripe data (sync/ordering.py), case by case."""

import pytest

from sync.ordering import Decision, Source, Version, decide

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
        (Version(100, E), Version(100, F), Decision.TIE),
        (Version(100, F), Version(100, E), Decision.APPLY),
        (Version(100, F), Version(100, F), Decision.APPLY),
    ],
)
def test_decide(incoming, stored, expected):
    assert decide(incoming, stored) is expected


@pytest.mark.parametrize("source", list(Source))
def test_a_deleted_row_takes_no_update(source):
    assert decide(Version(10**10, source), Version(1, S), stored_deleted=True) is Decision.SKIP
