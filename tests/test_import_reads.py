"""The import's Stripe reads, end to end against the sandbox: for any distribution of
``created`` it imports exactly Stripe's customers with at most 1.1 x ceil(N / 100) list
requests, plus one for the final ``created[gte]`` pass (plus HEAD_START = 4 when the newest 100
customers span over an hour: the plan's head start, see sync/slices.py).

Why "+ 1": the main pass is within its budget by construction (sync/slices.py); the
final pass re-reads customers created from TAIL_MARGIN seconds before the run's first
answer, which for an account nobody is adding to is one empty page. (Customers created
within that margin are read twice, ceil(T/100) more requests for T of them; an account
with none gets a single request, so the stamps here lie in the past.) Counted at the
sandbox, over HTTP, as Stripe would count them.
"""

from __future__ import annotations

import itertools
import random
import time

import flask
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from models import Business, User
from sync import importer
from tests.import_support import app, assert_mirrors, link, sandbox
from tests.test_slices import request_bound

__all__ = ["app", "sandbox"]

_owners = itertools.count()


class ListRequests:
    """Counts the customer list requests the sandbox answers for ``account`` while in
    a ``with``, and keeps each one's status and parameters for a failure's message.

    Only that account's: the app's own job consumer runs in the test process, and its
    minute sweeps may reconcile an earlier example's business on the same sandbox
    (one linked just before a catch-up found it never imported: a "gap") while this
    import runs. Counting those made one example "take" 9 requests against 8."""

    def __init__(self, account: str):
        self.account = account
        self.seen: list[tuple[int, dict]] = []

    @property
    def count(self) -> int:
        return len(self.seen)

    def _seen(self, sender, response, **extra):
        request = flask.request
        if (
            request.path == "/v1/customers"
            and request.method == "GET"
            and request.headers.get("Stripe-Account") == self.account
        ):
            self.seen.append((response.status_code, request.args.to_dict()))

    def __enter__(self):
        flask.request_finished.connect(self._seen)
        return self

    def __exit__(self, *exc):
        flask.request_finished.disconnect(self._seen)


def test_the_count_is_the_imported_accounts_alone(sandbox):
    """Another account's listing on the same sandbox (a background reconciliation of an
    earlier business, say) is not the import's."""
    mine, other = sandbox.create_account(), sandbox.create_account()
    client = sandbox.client()
    with ListRequests(mine) as requests:
        client.v1.customers.list({"limit": 100}, {"stripe_account": other})
        client.v1.customers.list({"limit": 100}, {"stripe_account": mine})
    assert requests.seen == [(200, {"limit": "100"})]


def import_counting(app, sandbox, stamps: list[int], workers: int) -> ListRequests:
    """Seed a fresh account with ``stamps``, import it into a fresh business, check the
    result mirrors Stripe; returns the account's list requests made meanwhile."""
    account = sandbox.create_account()
    if stamps:
        sandbox.seed(account, created=stamps)
    owner = User.create_owner(f"reads{next(_owners)}@example.com", "a-long-password", "Reads")
    business = Business.primary_for(owner)
    link(business, account)
    app.config.update(IMPORT_WORKERS=workers)
    with ListRequests(account) as requests:
        run = importer.run_in_foreground(business.id, app.config)
    assert run.status == "succeeded", run.last_error
    assert_mirrors(sandbox, account, business)
    return requests


def _past() -> int:
    """An hour ago: well before the final pass's margin."""
    return int(time.time()) - 3600


SHAPES = {
    "years-apart": lambda n, t, rng: [t - int(rng.random() * 5 * 365 * 86400) for _ in range(n)],
    "all-in-one-second": lambda n, t, rng: [t] * n,
    "ten-seconds": lambda n, t, rng: [t - int(rng.random() * 10) for _ in range(n)],
    "one-minute": lambda n, t, rng: [t - int(rng.random() * 60) for _ in range(n)],
    "two-bursts-years-apart": lambda n, t, rng: [t - (i % 2) * 94_000_000 for i in range(n)],
}


@pytest.mark.parametrize("n", [2000, 3456], ids=["n2000", "n3456"])
@pytest.mark.parametrize("shape", sorted(SHAPES), ids=sorted(SHAPES))
def test_list_requests_stay_within_the_budget(app, sandbox, shape, n):
    stamps = SHAPES[shape](n, _past(), random.Random(n))
    requests = import_counting(app, sandbox, stamps, workers=16)
    assert requests.count <= request_bound(stamps) + 1, requests.seen


@pytest.mark.parametrize("n", [0, 1, 100, 101], ids=["empty", "one", "one-page", "page-and-one"])
def test_small_accounts_take_one_request_a_page(app, sandbox, n):
    requests = import_counting(app, sandbox, [_past() - i for i in range(n)], workers=16)
    assert requests.count == max(1, -(-n // 100)) + 1, requests.seen


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 300_000_000),
            st.sampled_from([1, 10, 60, 86_400, 100_000_000]),
            st.integers(0, 1500),
        ),
        min_size=1,
        max_size=3,
    ),
    st.integers(1, 16),
    st.integers(0, 2**32),
)
# ~650 customers in bursts: the shape of the example that once counted 9 requests
# against 8 (see ListRequests), with and without a burst an hour past the first.
@example([(0, 1, 300), (3_700, 10, 200), (90_000_000, 60, 150)], 16, 1)
@example([(0, 60, 450), (0, 1, 200)], 7, 2)
def test_any_distribution_is_imported_exactly_within_the_budget(
    app, sandbox, clusters, workers, seed
):
    rng = random.Random(seed)
    newest = _past()
    stamps = [
        newest - offset - int(rng.random() * width)
        for offset, width, count in clusters
        for _ in range(count)
    ]
    requests = import_counting(app, sandbox, stamps, workers=workers)
    assert requests.count <= request_bound(stamps) + 1, requests.seen
