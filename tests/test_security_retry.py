""" "Retry import" is for failed or interrupted runs only: on a finished run it does
nothing, two clicks make one run, and a business may retry at most
IMPORT_RETRY_LIMIT times (spamming Retry on a finished import once started eleven
full re-imports in ten seconds)."""

from __future__ import annotations

import pytest

from models.import_run import ImportRun
from tests import import_support
from tests.conftest import make_test_app
from tests.import_support import FAST, link, wait_for_run

sandbox = import_support.sandbox  # the fixture, under its own name

HTMX = {"HX-Request": "true"}


@pytest.fixture
def app(tmp_path, sandbox):
    return make_test_app(
        tmp_path, STRIPE_SANDBOX_URL=sandbox.url, IMPORT_RETRY_LIMIT="2/minute", **FAST
    )


def _retry(client, csrf: str, run: ImportRun, **headers):
    return client.post(f"/imports/{run.id}/retry", headers={"X-CSRFToken": csrf, **headers})


@pytest.mark.parametrize("status", ["succeeded", "running", "queued"])
def test_retry_on_a_run_that_did_not_fail_does_nothing(
    client,
    logged_in,
    business,
    sandbox,
    status,
):
    link(business, sandbox.create_account(customers=3))
    run = ImportRun.create(business=business, status=status, total=3, seen=3)
    for _ in range(3):
        assert _retry(client, logged_in, run).status_code == 302
    assert [(r.id, r.status) for r in ImportRun.select()] == [(run.id, status)]


def test_retry_on_an_older_failed_run_does_nothing(client, logged_in, business, sandbox):
    link(business, sandbox.create_account(customers=3))
    old = ImportRun.create(business=business, status="failed", last_error="x")
    newer = ImportRun.create(business=business, status="succeeded")
    assert _retry(client, logged_in, old, **HTMX).status_code == 200
    assert ImportRun.select().count() == 2
    assert (old.refresh().status, newer.refresh().status) == ("failed", "succeeded")


def test_two_clicks_on_a_failed_run_resume_it_once(client, logged_in, business, sandbox):
    link(business, sandbox.create_account(customers=150))
    run = ImportRun.create(business=business, status="failed", last_error="Stripe was down.")
    first = _retry(client, logged_in, run, **HTMX)
    second = _retry(client, logged_in, run, **HTMX)
    assert first.status_code == second.status_code == 200
    assert wait_for_run(run.id).status == "succeeded"
    assert ImportRun.select().count() == 1 and run.refresh().attempts == 1


def test_retries_are_rate_limited_per_business(client, logged_in, business, sandbox):
    link(business, sandbox.create_account(customers=3))
    run = ImportRun.create(business=business, status="failed", last_error="x")
    for _ in range(2):
        assert _retry(client, logged_in, run, **HTMX).status_code == 200
        wait_for_run(run.id)
        ImportRun.update(status="failed").where(ImportRun.id == run.id).execute()
    refused = _retry(client, logged_in, run, **HTMX)
    assert "Too many retries" in refused.get_data(as_text=True)
    assert run.refresh().status == "failed"
