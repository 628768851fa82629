"""The import's live progress in a real Chromium: the status partial polls while the
run goes, then settles on its finished state and stops polling."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from sync import import_jobs
from tests.import_support import app, link, sandbox

__all__ = ["app", "sandbox"]


def test_progress_then_done(app, sandbox, business, logged_in_page, live_server):
    link(business, sandbox.create_account(customers=600))
    # Slow enough (about 4 requests a second) to be watched while it runs.
    app.config.update(STRIPE_RATE_LIMIT=5, IMPORT_WORKERS=2)
    run = import_jobs.start_import(business.id, config=app.config)
    page = logged_in_page
    page.goto(f"{live_server.url}/customers")
    status = page.locator("#import-status")
    expect(status.locator("progress")).to_be_visible()
    expect(status).to_contain_text("Importing customers from Stripe")
    expect(status).to_contain_text(re.compile(r"Imported 600 customers in \d+ s\."), timeout=30_000)
    expect(status.locator("progress")).to_have_count(0)
    expect(status).not_to_have_attribute("hx-trigger", re.compile("."))
    assert run.refresh().status == "succeeded"
