"""Shared pieces of the reconciliation and Sync now tests: a business imported from a
sandbox account, then drifted behind ShingleAI's back (rows edited and lost here,
customers changed and deleted in Stripe with no webhook to tell us)."""

from __future__ import annotations

from dataclasses import dataclass

from models import Business, Customer
from models.sync_check import RECONCILE, SyncCheck
from stripe_sandbox.testing import SandboxServer
from sync import importer, sync_now
from tests.import_support import link


@dataclass
class Drift:
    edited: list[str]  # rows whose name we changed here
    lost: list[str]  # rows we deleted here
    renamed: list[str]  # customers renamed in Stripe
    deleted: list[str]  # customers deleted in Stripe

    @property
    def to_correct(self) -> int:
        return len(self.edited) + len(self.lost) + len(self.renamed)


def imported_account(app, sandbox: SandboxServer, business: Business, customers: int) -> str:
    """A sandbox account with ``customers`` customers, linked and imported."""
    account = sandbox.create_account(customers=customers)
    link(business, account)
    run = importer.run_in_foreground(business.id, app.config)
    assert run.status == "succeeded", run.last_error
    return account


def stripe_ids(business: Business) -> list[str]:
    query = Customer.for_business(business).where(Customer.stripe_customer_id.is_null(False))
    return sorted(c.stripe_customer_id for c in query.order_by(Customer.id))


def drift(sandbox: SandboxServer, account: str, business: Business) -> Drift:
    """Make the list differ from Stripe in every way a reconciliation must repair."""
    ids = stripe_ids(business)
    edited, lost, renamed, deleted = ids[0:3], ids[3:5], ids[5:7], ids[7:9]
    Customer.update(name="Edited behind its back").where(
        Customer.stripe_customer_id.in_(edited)
    ).execute()
    Customer.delete().where(Customer.stripe_customer_id.in_(lost)).execute()
    client = sandbox.client()
    options = {"stripe_account": account}
    for stripe_id in renamed:
        client.v1.customers.update(stripe_id, {"name": "Renamed in Stripe"}, options)
    for stripe_id in deleted:
        client.v1.customers.delete(stripe_id, options=options)
    return Drift(edited, lost, renamed, deleted)


def reconcile_now(app, business: Business, **kwargs) -> SyncCheck:
    """Start a reconciliation and run it in this thread."""
    check, queued = sync_now.start(business.id, RECONCILE, app.config, reason="cli")
    assert queued
    return sync_now.take_and_execute(check.id, app.config, **kwargs)
