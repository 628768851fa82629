"""Support's Replay of a failed webhook event: its stored payload goes through the very
path a delivery from Stripe takes (``sync.webhooks.receive``), so the ordering rule,
routing and idempotency apply unchanged. The payload was verified when it arrived,
and it is what is replayed, so no signature is needed again."""

from __future__ import annotations

import json
from collections.abc import Mapping

from models.audit_log import AuditEntry
from models.business import Business
from models.user import User
from models.webhook_event import FAILED, OUTCOME_LABELS, WebhookEvent
from sync import webhooks


class NotReplayable(Exception):
    """Only a failed event can be replayed; the message says what it is instead."""


def replay(event_row: WebhookEvent, business: Business, actor: User, config: Mapping):
    """Apply ``event_row``'s payload again and record it in the audit log; returns
    the delivery's ``Result``."""
    if event_row.outcome != FAILED:
        label = OUTCOME_LABELS.get(event_row.outcome, event_row.outcome)
        raise NotReplayable(f"Only failed events can be replayed; this one is “{label}”.")
    event = json.loads(event_row.payload)
    result = webhooks.receive(event, event_row.payload.encode(), config)
    after = WebhookEvent.get_by_id(event_row.id)
    AuditEntry.write(
        actor,
        "webhook.replayed",
        f"Replayed {event_row.type} {event_row.event_id}: "
        f"{OUTCOME_LABELS.get(after.outcome, after.outcome)}",
        business=business,
        details={
            "event_id": event_row.event_id,
            "type": event_row.type,
            "stripe_customer_id": event_row.stripe_customer_id,
            "error_before": event_row.error,
            "routed_to_business_id": after.business_id,
            "outcome": after.outcome,
            "error_after": after.error,
        },
    )
    return result
