"""The initial import against the sandbox: exact results, page edges, missing fields,
faults, a revoked account, a webhook update racing the import, a catch-up after a
reconnect."""

from __future__ import annotations

import flask
import pytest

from models import Customer, StripeAccount
from models.import_run import ImportRun
from sync import import_jobs, importer
from sync.customers import Change, apply_changes
from sync.ordering import Source, Version
from tests.import_support import app, assert_mirrors, imported, link, sandbox, wait_for_run

__all__ = ["app", "sandbox"]


@pytest.mark.parametrize("count", [0, 1, 100, 101, 1234])
def test_import_mirrors_stripe(app, sandbox, business, count):
    account = sandbox.create_account(customers=count)
    link(business, account)
    run = import_jobs.start_import(business.id, config=app.config)
    run = wait_for_run(run.id)
    assert run.status == "succeeded", run.last_error
    assert run.total == count
    assert_mirrors(sandbox, account, business)


def test_customers_without_name_or_email(app, sandbox, business):
    account = sandbox.create_account()
    client = sandbox.client()
    for params in ({"name": "Only Name"}, {"email": "only@example.com"}, {}):
        client.v1.customers.create(params, {"stripe_account": account})
    link(business, account)
    run = importer.run_in_foreground(business.id, app.config)
    assert run.status == "succeeded"
    assert_mirrors(sandbox, account, business)
    assert {(name, email) for _, name, email, _ in imported(business)} == {
        ("Only Name", None),
        (None, "only@example.com"),
        (None, None),
    }


def test_rate_limits_server_errors_and_cut_connections_are_ridden_out(app, sandbox, business):
    account = sandbox.create_account(customers=2500)
    # We think the limit is 200/s; Stripe (the sandbox) allows 20/s, fails 20% of
    # requests with a 500 and cuts 10% of connections: only backing off and slowing
    # down gets everything in.
    sandbox.configure(rate_limit=20, error_rate=0.2, drop_rate=0.1, seed=7)
    app.config.update(STRIPE_RATE_LIMIT=200, IMPORT_REQUEST_ATTEMPTS=30)
    link(business, account)
    run = importer.run_in_foreground(business.id, app.config)
    sandbox.configure(rate_limit=None, error_rate=0.0, drop_rate=0.0)
    assert run.status == "succeeded", run.last_error
    assert_mirrors(sandbox, account, business)


class _Revoked(Exception):
    pass


def test_revoked_access_fails_the_run_and_disconnects_without_a_retry_storm(app, sandbox, business):
    account = sandbox.create_account(customers=3000)
    stripe_link = link(business, account)
    app.config.update(IMPORT_RETRY_DELAYS=(30, 120))
    refused = []

    def count(sender, response, **extra):
        if flask.request.path.startswith("/v1/") and response.status_code == 403:
            refused.append(flask.request.path)

    def revoke_after_two_pages(run: ImportRun) -> None:
        if run.refresh().pages == 2:
            sandbox.deauthorize(account)

    flask.request_finished.connect(count)
    try:
        run = importer.run_in_foreground(business.id, app.config, on_page=revoke_after_two_pages)
    finally:
        flask.request_finished.disconnect(count)
    assert run.status == "failed"
    assert "refused" in run.last_error or "no longer accepts" in run.last_error
    assert run.retry_at is None  # a revoked account is not retried
    assert not StripeAccount.get_by_id(stripe_link.id).is_connected
    # Each of the 4 workers may have one request in flight when access goes: no more.
    assert 1 <= len(refused) <= 4


def test_webhook_update_during_the_import_wins(app, sandbox, business):
    account = sandbox.create_account(customers=800)
    order = [c for c in _listing(sandbox, account)]
    link(business, account)
    app.config.update(IMPORT_WORKERS=1)
    client = sandbox.client()
    # Customers on the pages right behind the first: fetched (with their old data)
    # while the writer commits page one, so their snapshot reaches the writer after
    # the webhook's newer data.
    targets = [c.id for c in order[100:400:37]]

    def update_in_stripe(run: ImportRun) -> None:
        if run.refresh().pages != 1:
            return
        for customer_id in targets:
            client.v1.customers.update(
                customer_id, {"name": "Renamed mid-import"}, {"stripe_account": account}
            )
        events = client.v1.events.list(
            {"type": "customer.updated", "limit": 100}, {"stripe_account": account}
        )
        for event in events.data:
            apply_changes(
                business.id, [Change(event.data.object, Version(event.created, Source.EVENT))]
            )

    run = importer.run_in_foreground(business.id, app.config, on_page=update_in_stripe)
    assert run.status == "succeeded"
    assert_mirrors(sandbox, account, business)
    renamed = Customer.for_business(business).where(Customer.stripe_customer_id.in_(targets))
    assert {c.name for c in renamed} == {"Renamed mid-import"}


def test_reconnect_catches_up_updates_new_customers_and_deletions(app, sandbox, business):
    account = sandbox.create_account(customers=250)
    stripe_link = link(business, account)
    assert importer.run_in_foreground(business.id, app.config).status == "succeeded"
    stripe_link.mark_disconnected("You disconnected Stripe.")
    client = sandbox.client()
    options = {"stripe_account": account}
    existing = [c.id for c in _listing(sandbox, account)]
    for customer_id in existing[:3]:
        client.v1.customers.delete(customer_id, options=options)
    client.v1.customers.update(existing[10], {"email": "new@example.com"}, options)
    client.v1.customers.create({"name": "Joined while away"}, options)
    StripeAccount.update(status="connected", disconnected_at=None).execute()

    run = wait_for_run(
        import_jobs.start_import(business.id, config=app.config, reason="reconnect").id
    )
    assert run.status == "succeeded", run.last_error
    assert run.reason == "reconnect"
    assert_mirrors(sandbox, account, business)
    assert {row[0] for row in imported(business, deleted=True)} == set(existing[:3])


def test_an_unlinked_business_fails_with_a_clear_reason(app, business):
    run = wait_for_run(import_jobs.start_import(business.id, config=app.config).id)
    assert run.status == "failed"
    assert run.last_error == importer.NOT_CONNECTED


def _listing(sandbox, account):
    listing = sandbox.client().v1.customers.list({"limit": 100}, {"stripe_account": account})
    return list(listing.auto_paging_iter())
