"""The import's last step: customers we hold that the complete pass did not see.

After a reconnect, customers deleted in Stripe while we were disconnected are simply
absent from the list. Every row the pass saw carries a version stamped at or after the
run's first answer (snapshot stamps only grow; webhook updates are newer still), so a
synced, not-deleted row with an older stamp was not seen. Each is confirmed with a
retrieve before anything is marked: deleted (or gone) → marked Deleted in Stripe; still
there (e.g. a test-clock customer, which lists omit) → refreshed as a fetch.

Why not ``customer.deleted`` events? Stripe keeps events for 30 days only, so an owner
who reconnects after a month would keep ghosts; this works after any gap, resumes
trivially (it is a query), and costs one request per missing customer.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import stripe

from models.customer import Customer
from sync.customer_input import InvalidCustomer, check_customer
from sync.customers import Change, apply_changes
from sync.ordering import Source, Version
from sync.pacing import with_retries
from sync.stripe_client import EXPAND_ONE, stripe_second

log = logging.getLogger(__name__)

BATCH = 100


def unseen(business_id: int, started: int, after_id: int = 0):
    """Synced rows not stamped by this pass (whose first answer came at ``started``)."""
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
            & (Customer.stripe_version_at.is_null() | (Customer.stripe_version_at < started - 1))
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
        marked += apply_changes(business_id, changes).deleted
        import_pass._save()


def _confirm(import_pass, row: Customer) -> Change | None:
    """What Stripe says now about one unseen customer, as a FETCH change (None when
    Stripe's answer fails sync/customer_input.py's checks: the row stays as it is). A
    deletion is passed on as Stripe's stub {id, object, deleted}: it marks the row and
    leaves its last known fields and full object as they are."""
    stub = {"id": row.stripe_customer_id, "object": "customer", "deleted": True}
    try:
        response = with_retries(
            lambda: import_pass.client.raw_request(
                "get",
                f"/v1/customers/{row.stripe_customer_id}",
                stripe_account=import_pass.account,
                expand=list(EXPAND_ONE),
            ),
            import_pass.bucket,
            stop=import_pass.stop,
        )
    except stripe.InvalidRequestError as error:
        if error.http_status != 404:
            raise
        second = stripe_second(SimpleNamespace(last_response=None))
        return Change(stub, Version(second, Source.FETCH), deleted=True)
    second = stripe_second(SimpleNamespace(last_response=response))
    found = response.data
    if found.get("deleted"):
        return Change(stub, Version(second, Source.FETCH), deleted=True)
    try:
        check_customer(found)
    except InvalidCustomer as error:
        log.warning("import sweep (business %s): skipped a customer: %s", row.business_id, error)
        return None
    return Change(found, Version(second, Source.FETCH))
