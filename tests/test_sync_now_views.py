""" "Sync now" on the Customers list and the Stripe page: disabled with its reason when
Stripe is not connected, "Check every customer" states its cost and reports its result
live, a second click joins the running check, CSRF and ownership are checked; and
``flask sync-now``."""

from __future__ import annotations

import re
from datetime import timedelta

from peewee import chunked

from models import Business, Customer, StripeAccount, User
from models.catch_up_state import CatchUpState
from models.db import db_clock
from models.sync_check import RECONCILE, SyncCheck
from sync.reconcile import list_requests
from tests.import_support import app, link, sandbox, wait_until
from tests.reconcile_support import drift, imported_account

__all__ = ["app", "sandbox"]
HTMX = {"HX-Request": "true"}


def _panel(html: str) -> str:
    return re.search(r'<section id="sync-now".*?</section>', html, re.S).group(0)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_never_connected_the_button_is_disabled_and_says_why(client, logged_in):
    panel = _panel(client.get("/customers").get_data(as_text=True))
    assert re.search(r"<button[^>]*disabled[^>]*>Sync now</button>", panel)
    assert "Stripe is not connected yet" in panel
    assert "Check every customer" not in panel


def test_disconnected_the_button_is_disabled_and_a_post_starts_nothing(
    client, logged_in, business, sandbox
):
    link(business, sandbox.create_account())
    StripeAccount.update(status="disconnected").execute()
    for page in ("/customers", "/stripe"):
        panel = _panel(client.get(page).get_data(as_text=True))
        assert re.search(r"<button[^>]*disabled[^>]*>Sync now</button>", panel)
        assert "Stripe is disconnected" in panel and "Reconnect Stripe" in panel
    answer = client.post(
        "/sync-now", data={"kind": "catch_up"}, headers={**HTMX, "X-CSRFToken": logged_in}
    )
    assert "Reconnect Stripe first" in answer.get_data(as_text=True)
    assert SyncCheck.select().count() == 0


def test_check_every_customer_states_its_cost(client, logged_in, business, sandbox):
    link(business, sandbox.create_account())
    rows = [
        {
            "business": business,
            "name": f"C{i}",
            "stripe_customer_id": f"cus_{i:05}",
            "customer_since": 1_700_000_000 + i,
        }
        for i in range(12_345)
    ]
    for batch in chunked(rows, 1000):
        Customer.insert_many(batch).execute()
    for page in ("/customers", "/stripe"):
        text = _text(_panel(client.get(page).get_data(as_text=True)))
        cost = re.search(r"about ([\d,]+) requests to Stripe, ~(\d+) (s|min)", text)
        assert cost, text
        assert int(cost.group(1).replace(",", "")) == list_requests(12_345)
        assert "Compares all 12,345 customers" in text


def test_check_every_customer_runs_live_and_reports_its_result(
    client, logged_in, app, business, sandbox
):
    account = imported_account(app, sandbox, business, 250)
    drift(sandbox, account, business)
    started = client.post(
        "/sync-now", data={"kind": RECONCILE}, headers={**HTMX, "X-CSRFToken": logged_in}
    )
    assert started.status_code == 200
    check = SyncCheck.get()
    assert f'hx-get="/sync-now/{check.id}?watching=1"' in started.get_data(as_text=True)

    def finished():
        answer = client.get(f"/sync-now/{check.id}?watching=1", headers=HTMX)
        return answer if "hx-trigger" not in answer.get_data(as_text=True) else None

    answer = wait_until(finished, timeout=30)
    text = _text(answer.get_data(as_text=True))
    assert "Checked 250 customers: 7 corrected, 2 marked deleted." in text
    assert answer.headers["HX-Trigger"] == "customers-changed, import-stopped"
    assert re.search(r"\d+ requests to Stripe \(estimated \d+\)", text)
    # The Stripe page shows the same result.
    assert "Checked 250 customers" in _text(client.get("/stripe").get_data(as_text=True))


def test_a_second_click_joins_the_running_check(client, logged_in, business, sandbox):
    link(business, sandbox.create_account())
    running = SyncCheck.create(
        business=business,
        kind=RECONCILE,
        status="running",
        queued_at=db_clock(),
        heartbeat_at=db_clock(),
        checked=40,
    )
    answer = client.post(
        "/sync-now", data={"kind": "catch_up"}, headers={**HTMX, "X-CSRFToken": logged_in}
    )
    text = _text(answer.get_data(as_text=True))
    assert "already running" in text and "40 checked so far" in text
    assert [c.id for c in SyncCheck.select()] == [running.id]


def test_without_javascript_the_form_returns_to_its_page(client, logged_in, business, sandbox):
    link(business, sandbox.create_account())
    StripeAccount.update(status="disconnected").execute()
    answer = client.post("/sync-now", data={"csrf_token": logged_in, "back": "stripe"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/stripe"
    assert "Reconnect Stripe first" in client.get("/stripe").get_data(as_text=True)


def test_a_post_needs_the_csrf_token(client, logged_in, business, sandbox):
    link(business, sandbox.create_account(customers=3))
    assert client.post("/sync-now", data={"kind": RECONCILE}, headers=HTMX).status_code == 400
    assert SyncCheck.select().count() == 0


def test_an_unknown_kind_is_refused(client, logged_in, business, sandbox):
    link(business, sandbox.create_account(customers=3))
    answer = client.post("/sync-now", data={"kind": "everything", "csrf_token": logged_in})
    assert answer.status_code == 400
    assert SyncCheck.select().count() == 0


def test_another_business_cannot_see_or_start_a_check(client, logged_in, business, sandbox):
    other = User.create_owner("other@example.com", "password123", "Other")
    theirs = Business.primary_for(other)
    link(theirs, sandbox.create_account(customers=3))
    check = SyncCheck.create(business=theirs, status="succeeded", checked=3, queued_at=db_clock())
    assert client.get(f"/sync-now/{check.id}", headers=HTMX).status_code == 404
    # A POST acts on the caller's own business only: not connected, so nothing starts.
    client.post("/sync-now", data={"kind": RECONCILE}, headers={**HTMX, "X-CSRFToken": logged_in})
    assert [c.id for c in SyncCheck.select()] == [check.id]


def test_status_needs_login(client, business):
    check = SyncCheck.create(business=business, queued_at=db_clock())
    assert client.get(f"/sync-now/{check.id}").status_code == 302
    assert client.post("/sync-now").status_code in (302, 400)


def test_cli_checks_every_customer_with_its_cost_and_result(runner, app, sandbox, business):
    account = imported_account(app, sandbox, business, 120)
    drift(sandbox, account, business)
    result = runner.invoke(args=["sync-now", "--email", "owner@example.com", "--full"])
    assert result.exit_code == 0, result.output
    assert f"about {list_requests(120)} requests to Stripe" in result.output
    assert "Checked 120 customers: 7 corrected, 2 marked deleted." in result.output
    assert re.search(r"Stripe requests: \d+ \(estimated \d+\)", result.output)


def test_cli_errors_are_clear(runner, app, sandbox, business):
    unknown = runner.invoke(args=["sync-now", "--email", "nobody@example.com"])
    assert unknown.exit_code == 1 and "no owner with email nobody@example.com" in unknown.output
    not_connected = runner.invoke(args=["sync-now", "--email", "owner@example.com"])
    assert not_connected.exit_code == 1 and "Stripe is not connected" in not_connected.output
    support = User.create(email="staff@example.com", password_hash="x", role="support")
    no_business = runner.invoke(args=["sync-now", "--email", support.email])
    assert no_business.exit_code == 1 and "has no primary business" in no_business.output


def test_health_says_when_the_list_last_matched_stripe_and_what_was_repaired(
    client, logged_in, business, sandbox
):
    link(business, sandbox.create_account())
    health = _text(client.get("/stripe").get_data(as_text=True))
    assert "Last confirmed to match Stripe Not yet: use Sync now" in health
    now = db_clock()
    CatchUpState.create(
        business=business, last_run_at=now - timedelta(hours=3), last_recovered=2, total_recovered=5
    )
    SyncCheck.create(
        business=business,
        kind=RECONCILE,
        status="succeeded",
        checked=12_345,
        corrected=3,
        marked_deleted=1,
        queued_at=now,
        finished_at=now - timedelta(hours=1),
    )
    SyncCheck.create(  # a failed check confirms nothing
        business=business,
        kind=RECONCILE,
        status="failed",
        queued_at=now,
        finished_at=now,
    )

    def confirmed() -> str:
        page = client.get("/stripe").get_data(as_text=True)
        return re.search(r'id="health-confirmed">(.*?)</dd>', page, re.S).group(1)

    assert 'datetime="' + (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M") in confirmed()
    health = _text(client.get("/stripe").get_data(as_text=True))
    assert "2 changes recovered from Stripe" in health
    assert "checked 12,345 customers, 3 corrected, 1 marked deleted" in health
    assert "5 changes recovered by catch-up in all; 3 customers corrected and 1 marked" in health

    # A later catch-up confirms the list again; one that found a gap does not.
    CatchUpState.update(last_run_at=now - timedelta(minutes=10)).execute()
    assert 'datetime="' + (now - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M") in confirmed()
    CatchUpState.update(needs_reconcile=True).execute()
    assert 'datetime="' + (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M") in confirmed()
