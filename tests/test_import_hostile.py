"""Hostile customer objects in an import page (issue 10, item 14): skipped with a
recorded reason while the rest of the import goes on."""

from __future__ import annotations

from models import Customer
from models.import_run import ImportRun
from sync import importer
from sync.import_pass import Pass
from tests.import_support import app, link, sandbox

__all__ = ["app", "sandbox"]


def test_an_import_page_skips_bad_customers_with_a_reason_and_imports_the_rest(
    app, sandbox, business, logged_in, client, monkeypatch
):
    """Decided: a bad object is skipped (counted, its reason kept on the run and
    logged); the page's good customers and every later page are imported."""
    account = sandbox.create_account(customers=150)
    link(business, account)
    real = Pass.list_customers
    spoiled: list[str] = []
    calls = []

    def hostile_first_page(self, params):
        response, read_second = real(self, params)
        data = response.data["data"]
        calls.append(params)
        # The run's first request only plans the slices; spoil the first page written.
        if len(calls) > 1 and not spoiled and len(data) > 3:
            data[0]["created"] = 10**12
            data[1]["name"] = "\ud800"
            spoiled.extend([data[0]["id"], data[1]["id"]])
        return response, read_second

    monkeypatch.setattr(Pass, "list_customers", hostile_first_page)
    run = importer.run_in_foreground(business.id, app.config)
    assert run.status == "succeeded", run.last_error
    run = ImportRun.get_by_id(run.id)
    assert run.skipped == 2 and "not valid Unicode" in run.skipped_reason
    stored = {c.stripe_customer_id for c in Customer.for_business(business)}
    assert len(stored) == 148 and not stored & set(spoiled)
    status = client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert "Skipped 2 customers whose data from Stripe cannot be stored" in status
    assert client.get("/customers").status_code == 200
