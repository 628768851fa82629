"""The ordering rule's two spellings agree: the conditional upsert that writes
(``newer_condition``, run by ``apply_changes`` on the suite's backend) and ``decide``
in Python, over every stored state and incoming change Hypothesis can make."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Customer
from sync.customers import Change, apply_changes
from sync.ordering import Decision, Source, Version, decide
from tests.conftest import make_customer

# Few seconds, so same-second cases (the interesting ones) come up often.
versions = st.builds(Version, st.integers(100, 102), st.sampled_from(list(Source)))


def _moment(second: int) -> datetime:
    return datetime.fromtimestamp(second, UTC).replace(tzinfo=None)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    row_exists=st.booleans(),
    stored=st.none() | versions,
    stored_deleted=st.booleans(),
    incoming=versions,
    incoming_deleted=st.booleans(),
)
def test_the_upsert_decides_as_decide(
    business, row_exists, stored, stored_deleted, incoming, incoming_deleted
):
    Customer.delete().where(Customer.business == business).execute()
    if row_exists:
        make_customer(
            business,
            name="Stored",
            stripe_customer_id="cus_1",
            stripe_version_at=stored.at if stored else None,
            stripe_version_source=int(stored.source) if stored else None,
            deleted_in_stripe_at=_moment(50) if stored_deleted else None,
        )
    else:
        stored, stored_deleted = None, False
    incoming_object = {"id": "cus_1", "object": "customer", "name": "Incoming", "created": 1}
    result = apply_changes(
        business.id, [Change(incoming_object, incoming, deleted=incoming_deleted)]
    )

    expected = decide(
        incoming, stored, stored_deleted=stored_deleted, incoming_deleted=incoming_deleted
    )
    row = Customer.get(Customer.stripe_customer_id == "cus_1")
    if expected is Decision.APPLY:
        assert row.name == "Incoming"
        assert (row.stripe_version_at, row.stripe_version_source) == (
            incoming.at,
            int(incoming.source),
        )
    else:
        assert row.name == "Stored"
        assert result.ties == (["cus_1"] if expected is Decision.TIE else [])
        assert result.skipped == (1 if expected is Decision.SKIP else 0)
    # Deletion is final, and the first deletion time stays.
    if stored_deleted:
        assert row.deleted_in_stripe_at == _moment(50)
    elif incoming_deleted:
        assert row.deleted_in_stripe_at == _moment(incoming.at)
    else:
        assert row.deleted_in_stripe_at is None
