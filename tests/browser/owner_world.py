"""A business as a new owner meets it after a while: Stripe linked to a named sandbox
account and imported, customers in every state (one with a very long unbroken name
and email), a webhook seen, an API token. Shared by the owner-experience tests."""

from __future__ import annotations

from models.import_run import ImportRun
from models.stripe_account import StripeAccount
from models.user import utcnow
from sync import importer
from tests.conftest import make_customer

LONG_NAME = "Bartholomew" * 12
LONG_EMAIL = "x" * 120 + "@example.com"


def link_named_account(business, sandbox, config, *, name="Acme Roofing", customers=3) -> str:
    """Link a sandbox account holding ``customers`` and import it, as Connect would."""
    account = sandbox.create_account(name=name, customers=customers)
    StripeAccount.attach(business, account, livemode=False, account_name=name)
    importer.run_in_foreground(business.id, config)
    return account


def populate(business, sandbox, config) -> str:
    account = link_named_account(business, sandbox, config)
    make_customer(business, name=LONG_NAME, email=LONG_EMAIL)
    make_customer(
        business,
        name="Gus Gone",
        email="gus@example.com",
        stripe_customer_id="cus_gone",
        deleted_in_stripe_at=utcnow(),
    )
    return account


def latest_run(business) -> ImportRun:
    return ImportRun.latest_for(business)
