"""The sync summary behind the MCP ``sync_status`` tool, with real import runs and
webhook events (the empty case is covered through MCP in test_mcp.py)."""

from __future__ import annotations

from datetime import datetime

from models import Business
from models.import_run import ImportRun
from models.stripe_account import StripeAccount
from models.sync_status import sync_status
from models.webhook_event import WebhookEvent
from tests.conftest import make_customer


def test_reports_the_latest_import_and_webhook_of_this_business_only(business, owner):
    StripeAccount.create(business=business, account_id="acct_1", livemode=False)
    make_customer(business, stripe_customer_id="cus_1", deleted_in_stripe_at=datetime(2026, 1, 1))
    ImportRun.create(business=business, status="failed", reason="connect")
    ImportRun.create(
        business=business,
        status="succeeded",
        reason="retry",
        started_at=datetime(2026, 11, 1, 9, 0, 0),
        finished_at=datetime(2026, 11, 1, 9, 5, 0),
        seen=42,
    )
    side = Business.get(Business.name == "Side Project")
    ImportRun.create(business=side, status="running")
    for event_id, received, target in [
        ("evt_old", datetime(2026, 11, 1, 10, 0), business),
        ("evt_new", datetime(2026, 11, 2, 10, 0), business),
        ("evt_side", datetime(2026, 11, 3, 10, 0), side),
    ]:
        WebhookEvent.create(
            event_id=event_id,
            type="customer.updated",
            account_id="acct_1",
            business=target,
            created=1,
            received_at=received,
            outcome="applied",
            payload="{}",
        )

    status = sync_status(business.id)

    assert status["stripe"]["linked"] is True
    assert status["stripe"]["state"] == "connected"
    assert status["stripe"]["account_id"] == "acct_1"
    assert status["customers"] == {"synced": 0, "not_synced": 0, "deleted": 1, "total": 1}
    assert status["last_import"] == {
        "status": "succeeded",
        "reason": "retry",
        "started_at": "2026-11-01T09:00:00Z",
        "finished_at": "2026-11-01T09:05:00Z",
        "customers_seen": 42,
        "last_error": None,
    }
    assert status["last_webhook"]["event_id"] == "evt_new"
    assert status["last_webhook"]["received_at"] == "2026-11-02T10:00:00Z"
    assert status["last_webhook"]["events_received"] == 2
