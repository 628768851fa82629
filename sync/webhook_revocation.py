"""``account.application.deauthorized``: end the link only if the revocation is about
the link we have now.

The event may come late (Stripe retries for days, deliveries can be held back), after
the owner connected the same account again. A revocation older than the current
connection must not end it: the new connection is a new grant. The event's
``created`` is Stripe's clock and ``connected_at`` ours, so only an event clearly
later than the connection (by more than ``CLOCK_SKEW``) is trusted as is. For any
other, one cheap read for the account (one customer, paced by its budget) asks
Stripe itself: still answered → the grant is alive and the event is stale; refused →
access really is gone and the link ends. The read is of customers rather than of the
account object because that is the access we use (a grant can allow customers and
not ``GET /v1/accounts/…``: stripe/stripe-apps#1027).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import stripe

from models import link_history
from models.stripe_account import LinkFence, StripeAccount
from models.webhook_event import APPLIED, IGNORED, PENDING, SKIPPED_STALE
from sync.pacing import bucket_for
from sync.stripe_client import account_options, make_client

REVOKED = "Access was revoked in Stripe"
# More than any plausible gap between Stripe's clock and ours.
CLOCK_SKEW = timedelta(minutes=5)
STALE = (
    "This revocation was sent before the current connection to {account} was made, "
    "and Stripe still grants access to the account, so the link was kept."
)


def moment(second: int) -> datetime:
    return datetime.fromtimestamp(second, UTC).replace(tzinfo=None)


def revoke(event: dict, fence: LinkFence) -> str:
    """Inside the delivery's transaction: end the link when the event is clearly
    newer than its connection (APPLIED); PENDING when Stripe must be asked first
    (``confirm``, outside the transaction)."""
    link = StripeAccount.of_fence(fence)
    if link is None or not link.is_connected:
        return SKIPPED_STALE
    if moment(event["created"]) <= link.connected_at + CLOCK_SKEW:
        return PENDING
    return _end(link, event)


def confirm(event: dict, fence: LinkFence, config: Mapping) -> tuple[str, str | None]:
    """Ask Stripe whether our access to the account is really gone; returns the
    event's outcome and its reason. Other Stripe errors (unreachable, rate limited)
    propagate: the event is replayed later."""
    budget = bucket_for(config, account=fence.account_id, livemode=event["livemode"])
    budget.acquire()
    try:
        make_client(config).v1.customers.list({"limit": 1}, account_options(fence.account_id))
    except (stripe.PermissionError, stripe.AuthenticationError):
        link = StripeAccount.of_fence(fence)
        if link is None or not link.is_connected:
            return SKIPPED_STALE, None
        return _end(link, event), None
    return IGNORED, STALE.format(account=fence.account_id)


def _end(link: StripeAccount, event: dict) -> str:
    # Never dated before the connection it ends (a revocation confirmed by asking).
    at = max(moment(event["created"]), link.connected_at)
    changed = link.mark_disconnected(REVOKED, at=at, kind=link_history.REVOKED)
    return APPLIED if changed else SKIPPED_STALE
