"""Shared pieces of the import tests: a sandbox, an app pointed at it, a business
linked to a sandbox account, and the comparison of imported rows with Stripe's list."""

from __future__ import annotations

import calendar

import pytest

from models import Business, Customer, StripeAccount
from models.import_run import ImportRun
from stripe_sandbox.testing import SandboxServer
from tests.conftest import make_test_app, wait_until

# An interrupted run is requeued by the next recovery sweep: not an end state.
TERMINAL = ("succeeded", "failed")
FAST = {
    "STRIPE_RATE_LIMIT": 0,  # the sandbox has no limit unless a test sets one
    "IMPORT_WORKERS": 4,
    "IMPORT_BACKOFF": 0.01,
    "IMPORT_RETRY_DELAYS": (),
}


@pytest.fixture
def sandbox():
    with SandboxServer() as server:
        yield server


@pytest.fixture
def app(tmp_path, sandbox):
    """The app on its own database, talking to this test's sandbox."""
    return make_test_app(tmp_path, STRIPE_SANDBOX_URL=sandbox.url, **FAST)


def link(business: Business, account: str) -> StripeAccount:
    """Link the business as a finished Connect flow would."""
    return StripeAccount.create(business=business, account_id=account)


def wait_for_run(run_id: int, *, statuses=TERMINAL, timeout: float = 30) -> ImportRun:
    """Poll the run until it reaches one of ``statuses``."""

    def reached() -> ImportRun | None:
        run = ImportRun.get_by_id(run_id)
        return run if run.status in statuses else None

    return wait_until(reached, timeout=timeout)


def stripe_customers(sandbox: SandboxServer, account: str) -> set[tuple]:
    """Every customer of the account, read through the official library."""
    listing = sandbox.client().v1.customers.list({"limit": 100}, {"stripe_account": account})
    return {(c.id, c.name, c.email, c.created) for c in listing.auto_paging_iter()}


def imported(business: Business, *, deleted: bool = False) -> list[tuple]:
    """The business's synced rows (not deleted in Stripe, unless asked), as tuples."""
    query = Customer.for_business(business).where(Customer.stripe_customer_id.is_null(False))
    condition = Customer.deleted_in_stripe_at.is_null(not deleted)
    return [
        (c.stripe_customer_id, c.name, c.email, calendar.timegm(c.customer_since.utctimetuple()))
        for c in query.where(condition)
    ]


def assert_mirrors(sandbox: SandboxServer, account: str, business: Business) -> None:
    """The imported rows are exactly Stripe's customers: no duplicates, none missing."""
    rows = imported(business)
    assert len(rows) == len(set(rows))
    expected = stripe_customers(sandbox, account)
    assert set(rows) == expected, (set(rows) - expected, expected - set(rows))
