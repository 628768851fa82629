"""A business's sync state in one small dict, for the MCP ``sync_status`` tool.

The import and webhook tables belong to other areas; when they are missing or
empty the answer just says so, rather than failing.
"""

from __future__ import annotations

from peewee import DatabaseError, fn

from models.customer import Customer
from models.customer_api import iso
from models.stripe_account import StripeAccount


def _stripe(business_id: int) -> dict:
    account = StripeAccount.for_business(business_id)
    if account is None:
        return {"linked": False, "state": "not_linked"}
    return {
        "linked": account.is_connected,
        "state": account.status,
        "account_id": account.account_id,
        "livemode": account.livemode,
        "connected_at": iso(account.connected_at),
        "disconnected_at": iso(account.disconnected_at),
        "disconnect_reason": account.disconnect_reason,
    }


def _counts(business_id: int) -> dict:
    counts = {}
    for sync in ("synced", "not_synced", "deleted"):
        query = Customer.for_business(business_id).where(Customer.sync_condition(sync))
        counts[sync] = query.count()
    counts["total"] = Customer.for_business(business_id).count()
    return counts


def _last_import(business_id: int) -> dict | None:
    try:
        from models.import_run import ImportRun

        run = ImportRun.latest_for(business_id)
    except (ImportError, AttributeError, DatabaseError):
        return None
    if run is None:
        return None
    return {
        "status": run.status,
        "reason": run.reason,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "customers_seen": run.seen,
        "last_error": run.last_error,
    }


def _last_webhook(business_id: int) -> dict | None:
    try:
        from models.webhook_event import WebhookEvent

        event = (
            WebhookEvent.select()
            .where(WebhookEvent.business == business_id)
            .order_by(WebhookEvent.received_at.desc(), WebhookEvent.id.desc())
            .first()
        )
        received = WebhookEvent.select(fn.COUNT(WebhookEvent.id)).where(
            WebhookEvent.business == business_id
        )
        total = received.scalar()
    except (ImportError, AttributeError, DatabaseError):
        return None
    if event is None:
        return None
    return {
        "type": event.type,
        "event_id": event.event_id,
        "outcome": event.outcome,
        "received_at": iso(event.received_at),
        "events_received": total,
    }


def sync_status(business_id: int) -> dict:
    """Is Stripe linked, in what state, how many customers of each kind, and the
    latest import run and webhook event (None when there is none)."""
    return {
        "stripe": _stripe(business_id),
        "customers": _counts(business_id),
        "last_import": _last_import(business_id),
        "last_webhook": _last_webhook(business_id),
    }
