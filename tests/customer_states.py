"""One customer in each sync state, shared by the list's tests."""

from __future__ import annotations

from models.customer import Customer
from models.user import utcnow
from tests.conftest import make_customer


def one_of_each_state(business) -> dict[str, Customer]:
    """Synced (newest), direct (not synced), deleted in Stripe (oldest)."""
    return {
        "synced": make_customer(
            business,
            name="Sam Synced",
            email="sam@example.com",
            stripe_customer_id="cus_S1",
            customer_since=1_700_000_300,
            stripe_version_at=1_700_000_300,
            stripe_version_source=0,
        ),
        "direct": make_customer(
            business, name="Dora Direct", email="dora@example.com", customer_since=1_700_000_200
        ),
        "deleted": make_customer(
            business,
            name="Gus Gone",
            email="gus@example.com",
            stripe_customer_id="cus_G1",
            deleted_in_stripe_at=utcnow(),
            customer_since=1_700_000_100,
        ),
    }
