"""A business in the support console: its page, events and Replay, the read-only
Customers list, Remove, and the audit log."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from models import Customer, StripeAccount
from models.audit_log import AuditEntry
from models.customer_list import stats
from models.import_run import ImportRun
from models.webhook_event import WebhookEvent
from tests.conftest import SUPPORT_EMAIL, make_customer
from tests.console_support import (  # noqa: F401  (fixtures)
    console_app,
    console_fixture,
    csrf_fixture,
    failed_event,
    link_fixture,
    text,
)
from tests.webhooks_support import ACCOUNT, deliver, make_event, stripe_customer


@pytest.fixture
def app(tmp_path):
    return console_app(tmp_path)


# --- A business's page -------------------------------------------------------------


def test_business_page_shows_link_history_imports_and_events(console, business, link):
    link.mark_disconnected("Access was revoked in Stripe")
    StripeAccount.attach(business, ACCOUNT, livemode=False)
    ImportRun.create(business=business, status="failed", last_error="Stripe answered 500")
    page = text(console.get(f"/support/businesses/{business.id}"))
    assert "Connected</span> to <code>acct_1TestShop</code>" in page
    for label in ("Connected", "Access revoked in Stripe", "Reconnected"):
        assert f"<td>{label}</td>" in page
    assert "Stripe answered 500" in page
    assert "Viewed Shingle Roofing" in page  # the view itself is in the audit log


def test_business_page_lists_events_with_their_reasons(client, console, business, link):
    deliver(client, make_event("customer.created", stripe_customer("cus_A")))
    deliver(client, make_event("customer.created", stripe_customer("cus_L"), livemode=True))
    failed = failed_event(stripe_customer("cus_F"))
    page = text(console.get(f"/support/businesses/{business.id}/events"))
    for total in ("Applied (1)", "Ignored (1)", "Failed (1)"):
        assert total in page
    assert "live-mode event but the app uses test keys" in page
    assert "Database unavailable: locked" in page
    assert page.count(">Replay<") == 1 and f"/events/{failed.id}/replay" in page
    only_failed = text(console.get(f"/support/businesses/{business.id}/events?outcome=failed"))
    assert "cus_F" in only_failed and "cus_A" not in only_failed


def test_an_unknown_outcome_filter_is_a_clear_400(console, business):
    response = console.get(f"/support/businesses/{business.id}/events?outcome=bogus")
    assert response.status_code == 400 and "Unknown outcome" in text(response)


# --- Replay ------------------------------------------------------------------------


def test_replay_applies_a_failed_event_and_is_audit_logged(console, csrf, business, link):
    failed = failed_event(stripe_customer("cus_R", name="Rita Replay"))
    assert not Customer.select().where(Customer.stripe_customer_id == "cus_R").exists()
    response = console.post(
        f"/support/businesses/{business.id}/events/{failed.id}/replay", data={"csrf_token": csrf}
    )
    assert response.location == f"/support/businesses/{business.id}/events"
    assert Customer.get(Customer.stripe_customer_id == "cus_R").name == "Rita Replay"
    assert WebhookEvent.get_by_id(failed.id).outcome == "applied"
    entry = AuditEntry.get(AuditEntry.action == "webhook.replayed")
    assert entry.business_id == business.id and entry.actor_email == SUPPORT_EMAIL
    assert entry.details_dict == {
        "event_id": failed.event_id,
        "type": "customer.created",
        "stripe_customer_id": "cus_R",
        "error_before": "Database unavailable: locked",
        "routed_to_business_id": business.id,
        "outcome": "applied",
        "error_after": None,
    }
    assert "Replayed customer.created" in text(console.get(response.location))


def test_only_failed_events_can_be_replayed(client, console, csrf, business, link):
    deliver(client, make_event("customer.created", stripe_customer("cus_OK")))
    applied = WebhookEvent.get(WebhookEvent.stripe_customer_id == "cus_OK")
    response = console.post(
        f"/support/businesses/{business.id}/events/{applied.id}/replay",
        data={"csrf_token": csrf},
        follow_redirects=True,
    )
    assert "Only failed events can be replayed" in text(response)
    assert WebhookEvent.get_by_id(applied.id).attempts == 1
    assert not AuditEntry.select().where(AuditEntry.action == "webhook.replayed").exists()


# --- The read-only list and Remove --------------------------------------------------


@pytest.fixture
def rows(business):
    gone = make_customer(
        business,
        name="Gina Gone",
        email="gina@example.com",
        stripe_customer_id="cus_gone",
        deleted_in_stripe_at=datetime(2026, 3, 1),
    )
    live = make_customer(business, name="Lara Live", stripe_customer_id="cus_live")
    direct = make_customer(business, name="Dana Direct")
    return {"gone": gone, "live": live, "direct": direct}


def test_the_list_is_read_only_with_remove_on_deleted_rows_only(console, business, rows):
    page = text(console.get(f"/support/businesses/{business.id}/customers"))
    assert all(row.name in page for row in rows.values())
    assert "Edit" not in page
    assert page.count(">Remove<") == 1 and f"customers/{rows['gone'].id}/remove" in page


def test_support_removes_a_deleted_customer_after_confirming(console, csrf, business, rows):
    gone = rows["gone"]
    path = f"/support/businesses/{business.id}/customers/{gone.id}/remove"
    confirm = text(console.get(path))
    assert "Remove Gina Gone?" in confirm and "cus_gone" in confirm
    before = stats(business.id)
    response = console.post(path, data={"csrf_token": csrf}, follow_redirects=True)
    assert "Removed Gina Gone from Shingle Roofing" in text(response)
    assert Customer.get_or_none(Customer.id == gone.id) is None
    after = stats(business.id)
    assert (after["all"], after["deleted"]) == (before["all"] - 1, before["deleted"] - 1)
    entry = AuditEntry.get(AuditEntry.action == "customer.removed")
    kept = entry.details_dict["customer"]
    assert (kept["name"], kept["email"], kept["stripe_customer_id"]) == (
        "Gina Gone",
        "gina@example.com",
        "cus_gone",
    )
    assert entry.actor_role == "support" and entry.business_id == business.id


@pytest.mark.parametrize("which", ["live", "direct"])
def test_support_cannot_remove_a_row_not_deleted_in_stripe(console, csrf, business, rows, which):
    row = rows[which]
    path = f"/support/businesses/{business.id}/customers/{row.id}/remove"
    response = console.post(path, data={"csrf_token": csrf}, follow_redirects=True)
    assert "cannot be removed" in text(response)
    assert Customer.get_by_id(row.id).name == row.name
    assert not AuditEntry.select().where(AuditEntry.action == "customer.removed").exists()


def test_the_audit_page_shows_entries_newest_first(console, csrf, business, rows):
    console.get(f"/support/businesses/{business.id}")
    path = f"/support/businesses/{business.id}/customers/{rows['gone'].id}/remove"
    console.post(path, data={"csrf_token": csrf})
    page = text(console.get("/support/audit"))
    assert page.index("Removed Gina Gone") < page.index("Viewed Shingle Roofing")
    assert "Removed a customer deleted in Stripe" in page and "gina@example.com" in page


def test_audit_log_pages_older_entries(console, business, support_user):
    for n in range(55):
        AuditEntry.write(support_user, "business.viewed", f"entry {n:02d}", business=business)
    first = text(console.get("/support/audit"))
    assert "entry 54" in first and "entry 04" not in first and "Older →" in first
    oldest_shown = AuditEntry.select().order_by(AuditEntry.id.desc()).offset(49).get()
    older = text(console.get(f"/support/audit?before={oldest_shown.id}"))
    assert "entry 04" in older and "entry 54" not in older


def test_the_read_only_list_pages_under_the_console(console, business):
    for n in range(51):
        make_customer(business, name=f"Person {n:02d}", customer_since=1_700_000_000 + n)
    page = text(console.get(f"/support/businesses/{business.id}/customers"))
    assert "1\u201350 of 51" in page and "Person 50" in page and "Person 00" not in page
    next_url = re.search(r'id="page-next" rel="next" href="([^"]+)"', page).group(1)
    assert next_url.startswith(f"/support/businesses/{business.id}/customers?")
    second = text(console.get(next_url.replace("&amp;", "&")))
    assert "Person 00" in second and "51\u201351 of 51" in second


def test_events_page_older_events_by_time(client, console, business, link):
    for n in range(55):
        deliver(client, make_event("customer.created", stripe_customer(f"cus_{n:02d}")))
    first = text(console.get(f"/support/businesses/{business.id}/events"))
    assert "cus_54" in first and "cus_04" not in first
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = text(console.get(older))
    assert "cus_04" in second and "cus_00" in second and "cus_54" not in second
