"""The import's last step: customers we hold that the complete pass did not see.

After a reconnect, customers deleted in Stripe while we were disconnected are simply
absent from the list. Every row the pass saw carries a version stamped at or after the
second its first page was read in, less ``SEEN_MARGIN`` (later pages are read later,
but a page is stamped earlier than its read by its measured time, and one slower than
the margin only costs its rows a needless retrieve here; webhook updates are newer
still), and the run starts only once every stamp an earlier read stored is older than
that (sync/import_pass.py; a row stamped by an event is known to exist, and its later
deletion comes as an event too), so a synced, not-deleted row with an older stamp was
not seen. Each is
confirmed with a retrieve before anything is marked: deleted (or gone) → marked
Deleted in Stripe; still there (e.g. a test-clock customer, which lists omit) →
refreshed as a fetch.

Why not ``customer.deleted`` events? Stripe keeps events for 30 days only, so an owner
who reconnects after a month would keep ghosts; this works after any gap, resumes
trivially (it is a query), and costs one request per missing customer.

Each batch is written in one transaction with the run's heartbeat, only while this
worker still holds the run (models/import_run.py): a sweep that was taken over (Retry
after a quiet heartbeat, a reconnect) writes nothing.
"""

from __future__ import annotations

import logging

import stripe

from models.customer import Customer
from models.db import write_transaction
from sync.customer_input import InvalidCustomer, check_customer
from sync.customers import Change, apply_changes
from sync.ordering import fetch_version
from sync.pacing import with_retries
from sync.stripe_client import EXPAND_ONE, read_second, timed_read

log = logging.getLogger(__name__)

BATCH = 100
# Seconds a page's stamp may fall below the run's first read and still count as seen.
SEEN_MARGIN = 3


def seen_since(started: int) -> int:
    """The oldest stamp a row seen by a run whose first page was read in second
    ``started`` can carry (and the bound every row stored before the run starts under)."""
    return started - SEEN_MARGIN


def unseen(business_id: int, started: int, after_id: int = 0):
    """Synced rows not stamped by this pass (whose first page was read in second
    ``started``)."""
    return (
        Customer.select(
            Customer.id,
            Customer.stripe_customer_id,
        )
        .where(
            (Customer.business == business_id)
            & (Customer.id > after_id)
            & Customer.stripe_customer_id.is_null(False)
            & Customer.deleted_in_stripe_at.is_null()
            & (
                Customer.stripe_version_at.is_null()
                | (Customer.stripe_version_at < seen_since(started))
            )
        )
        .order_by(Customer.id)
    )


def sweep(import_pass) -> int:
    """Confirm and settle every unseen row; returns how many were marked deleted."""
    business_id = import_pass.run.business_id
    marked = last_id = 0
    while True:
        started = import_pass.run.stripe_started_at
        rows = list(unseen(business_id, started, last_id).limit(BATCH))
        if not rows:
            return marked
        last_id = rows[-1].id
        confirmed = (_confirm(import_pass, row) for row in rows)
        changes = [change for change in confirmed if change is not None]
        with write_transaction():
            result = apply_changes(business_id, changes, fence=import_pass.fence)
            import_pass._save(**import_pass.swept(len(rows), result))
        marked += result.deleted


def _confirm(import_pass, row: Customer) -> Change | None:
    """What Stripe says now about one unseen customer, as a FETCH change (None when
    Stripe's answer fails sync/customer_input.py's checks: the row stays as it is). A
    deletion is passed on as Stripe's stub {id, object, deleted}: it marks the row and
    leaves its last known fields and full object as they are."""
    stub = {"id": row.stripe_customer_id, "object": "customer", "deleted": True}
    try:
        response, second = with_retries(
            lambda: timed_read(
                lambda: import_pass.client.raw_request(
                    "get",
                    f"/v1/customers/{row.stripe_customer_id}",
                    stripe_account=import_pass.account,
                    expand=list(EXPAND_ONE),
                )
            ),
            import_pass.bucket,
            stop=import_pass.stop,
        )
    except stripe.InvalidRequestError as error:
        # Only Stripe's "No such customer" confirms it is gone; any other refusal
        # (a 404 for a wrong route, say) fails the pass and marks nothing.
        if error.http_status != 404 or error.code != "resource_missing":
            raise
        # Gone: a deletion applies whatever its stamp; its time is the answer's.
        return Change(stub, fetch_version(read_second(error, 0.0)), deleted=True)
    found = response.data
    if found.get("deleted"):
        return Change(stub, fetch_version(second), deleted=True)
    try:
        check_customer(found)
    except InvalidCustomer as error:
        log.warning("import sweep (business %s): skipped a customer: %s", row.business_id, error)
        return None
    return Change(found, fetch_version(second))
