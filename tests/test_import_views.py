"""The import on the dashboard: the self-replacing status partial (polling only while
a run is active), the CSRF-protected "Retry import", and ``flask import-customers``."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from models import Business, User
from models.catch_up_state import CatchUpState
from models.import_run import ImportRun
from models.user import utcnow
from tests.import_support import app, assert_mirrors, link, sandbox, wait_for_run, wait_until

__all__ = ["app", "sandbox"]
HTMX = {"HX-Request": "true"}


def _section(html: str) -> str:
    return re.search(r'<section id="import-status".*?</section>', html, re.S).group(0)


def test_no_run_no_status(client, logged_in):
    assert 'id="import-status"' not in client.get("/customers").get_data(as_text=True)


def test_a_running_import_polls_with_a_progress_bar(client, logged_in, business):
    run = ImportRun.create(business=business, status="running", seen=12300, progress=420)
    section = _section(client.get("/customers").get_data(as_text=True))
    assert 'hx-trigger="every 1s"' in section
    assert f'hx-get="/imports/{run.id}?seen=running"' in section
    assert '<progress max="1000" value="420"' in section
    assert "12,300 customers" in section
    polled = client.get(f"/imports/{run.id}", headers=HTMX)
    assert "HX-Trigger" not in polled.headers
    assert 'hx-trigger="every 1s"' in polled.get_data(as_text=True)


def test_a_finished_import_stops_polling_and_refreshes_the_table(client, logged_in, business):
    started = utcnow() - timedelta(seconds=14)
    run = ImportRun.create(
        business=business, status="succeeded", total=12345, started_at=started, finished_at=utcnow()
    )
    polled = client.get(f"/imports/{run.id}", headers=HTMX)
    body = polled.get_data(as_text=True)
    assert "Imported 12,345 customers in 14 s." in body
    assert "hx-trigger" not in body and "<progress" not in body
    assert polled.headers["HX-Trigger"] == "import-stopped, customers-changed"


def test_a_failed_import_shows_why_and_offers_a_retry(client, logged_in, business, sandbox):
    link(business, sandbox.create_account())
    retry_at = (utcnow() + timedelta(minutes=5)).replace(microsecond=0)
    ImportRun.create(
        business=business,
        status="failed",
        seen=300,
        last_error="Stripe kept rate-limiting the import.",
        retry_at=retry_at,
    )
    section = _section(client.get("/customers").get_data(as_text=True))
    assert "stopped after 300 customers: Stripe kept rate-limiting the import." in section
    assert "Retrying automatically at" in section
    assert f'title="{retry_at:%Y-%m-%d %H:%M:%S} UTC"' in section
    assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]+">', section)
    assert "Retry import</button>" in section
    # Watched slowly, so the page sees the retry start.
    assert 'hx-trigger="every 5s"' in section


def test_a_retry_time_that_has_passed_reads_retrying_now(client, logged_in, business, sandbox):
    link(business, sandbox.create_account())
    ImportRun.create(
        business=business,
        status="failed",
        last_error="Stripe kept rate-limiting the import.",
        retry_at=utcnow() - timedelta(seconds=30),
    )
    section = _section(client.get("/customers").get_data(as_text=True))
    assert "Retrying now." in section and "Retrying automatically" not in section


def test_a_stale_running_import_shows_as_interrupted(client, logged_in, business, sandbox):
    link(business, sandbox.create_account())
    ImportRun.create(
        business=business, status="running", heartbeat_at=utcnow() - timedelta(hours=1)
    )
    section = _section(client.get("/customers").get_data(as_text=True))
    assert "was interrupted" in section and "Retry import" in section
    assert "hx-trigger" not in section


def test_retry_needs_the_csrf_token_and_resumes_the_run(client, logged_in, business, sandbox):
    account = sandbox.create_account(customers=150)
    link(business, account)
    run = ImportRun.create(business=business, status="failed", last_error="Stripe was down.")
    assert client.post(f"/imports/{run.id}/retry", headers=HTMX).status_code == 400
    assert ImportRun.get_by_id(run.id).status == "failed"

    answer = client.post(f"/imports/{run.id}/retry", headers={**HTMX, "X-CSRFToken": logged_in})
    assert answer.status_code == 200
    assert 'id="import-status"' in answer.get_data(as_text=True)
    assert wait_for_run(run.id).status == "succeeded"
    assert_mirrors(sandbox, account, business)


def test_retry_without_javascript_redirects_to_the_list(client, logged_in, business, sandbox):
    link(business, sandbox.create_account(customers=3))
    run = ImportRun.create(business=business, status="failed", last_error="x")
    answer = client.post(f"/imports/{run.id}/retry", data={"csrf_token": logged_in})
    assert answer.status_code == 302 and answer.headers["Location"] == "/customers"
    assert wait_for_run(run.id).status == "succeeded"


def test_another_business_runs_are_not_found(client, logged_in):
    other = User.create_owner("other@example.com", "password123", "Other")
    run = ImportRun.create(business=Business.primary_for(other), status="failed")
    assert client.get(f"/imports/{run.id}").status_code == 404
    assert (
        client.post(f"/imports/{run.id}/retry", headers={"X-CSRFToken": logged_in}).status_code
        == 404
    )


def test_status_needs_login(client, business):
    run = ImportRun.create(business=business)
    assert client.get(f"/imports/{run.id}").status_code == 302


def test_cli_imports_with_progress(runner, sandbox, business):
    account = sandbox.create_account(customers=250)
    link(business, account)
    result = runner.invoke(args=["import-customers", "--email", "owner@example.com"])
    assert result.exit_code == 0, result.output
    assert "Imported 250 customers" in result.output
    assert_mirrors(sandbox, account, business)
    # Followed by a catch-up, as a queued import is.
    wait_until(lambda: CatchUpState.for_business(business.id).last_trigger == "import")
    again = runner.invoke(args=["import-customers", "--business-id", str(business.id)])
    assert again.exit_code == 0 and "Imported 250 customers" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "exactly one of --business-id and --email"),
        (["--business-id", "1", "--email", "a@b.c"], "exactly one of"),
        (["--email", "nobody@example.com"], "no owner with email nobody@example.com"),
        (["--business-id", "999"], "no business with id 999"),
        (["--business-id", "x"], "'x' is not a valid integer"),
    ],
)
def test_cli_rejects_bad_input(runner, business, args, message):
    result = runner.invoke(args=["import-customers", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_cli_reports_a_failed_import(runner, business):
    result = runner.invoke(args=["import-customers", "--business-id", str(business.id)])
    assert result.exit_code == 1
    assert "Stripe is not connected" in result.output


def test_the_stripe_page_shows_the_same_status(client, logged_in, business, sandbox):
    link(business, sandbox.create_account())
    ImportRun.create(business=business, status="running", seen=42)
    page = client.get("/stripe").get_data(as_text=True)
    assert "42 customers so far" in _section(page)
