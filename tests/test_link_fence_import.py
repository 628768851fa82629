"""Import runs belong to the link they were queued for (issue 15, item 4), against a
real sandbox over HTTP: a run of account A is never resumed under B after a quick
switch; a stale run's refusal by Stripe never disconnects the account linked now;
a running import of A stops writing once the owner switched to B."""

from __future__ import annotations

import pytest

from models.customer import Customer
from models.db import db_now
from models.import_run import FAILED, RUNNING, SUCCEEDED, ImportRun
from sync import import_jobs, importer
from sync.importer import SUPERSEDED
from tests.test_connect_support import (  # noqa: F401  (fixtures)
    connect,
    connect_app_fixture,
    imports_idle,
    link_of,
    page_text,
    sandbox_fixture,
    wait_until,
)

OLD_CREATED = 1_700_000_000  # B's customers all predate A's import


class Crash(BaseException):
    """The worker's process dies here: nothing after this point runs."""


def _connect(client, csrf, sandbox, business) -> str:
    account = sandbox.create_account(name="Shop A", connected=False)
    connect(client, csrf, sandbox, account)
    wait_until(imports_idle, timeout=60)
    return account


def _switch(client, csrf, sandbox, customers: int) -> str:
    """The owner disconnects A, connects B and confirms the switch."""
    client.post("/stripe/disconnect", data={"csrf_token": csrf})
    new = sandbox.create_account(name="Shop B", connected=False)
    sandbox.seed(new, created=[OLD_CREATED + i for i in range(customers)])
    held = connect(client, csrf, sandbox, new)
    client.post(held.location, data={"csrf_token": csrf, "decision": "switch"})
    return new


def _ids_of(sandbox, account: str) -> set[str]:
    listed = sandbox.client().v1.customers.list({"limit": 100}, {"stripe_account": account})
    return {c.id for c in listed.auto_paging_iter()}


def _synced_ids() -> set[str]:
    query = Customer.select(Customer.stripe_customer_id).where(
        Customer.stripe_customer_id.is_null(False)
    )
    return {row.stripe_customer_id for row in query}


def test_an_interrupted_run_of_a_is_not_resumed_under_b(app, client, logged_in, sandbox, business):
    account = _connect(client, logged_in, sandbox, business)
    sandbox.seed(account, 40)

    def crash(run):
        raise Crash

    # A's import dies right after its first (and only) page is committed.
    with pytest.raises(Crash):
        importer.run_in_foreground(business.id, app.config, on_page=crash)
    crashed = ImportRun.latest_for(business)
    assert crashed.status == RUNNING and crashed.position

    new = _switch(client, logged_in, sandbox, customers=30)
    # Later the dead worker's heartbeat goes quiet and the recovery sweep looks.
    ImportRun.update(heartbeat_at=db_now(-3600)).where(ImportRun.id == crashed.id).execute()
    import_jobs.sweep()
    wait_until(imports_idle, timeout=60)

    assert _synced_ids() == _ids_of(sandbox, new)  # every one of B's, none of A's
    assert crashed.refresh().status == FAILED
    assert crashed.refresh().last_error == SUPERSEDED
    latest = ImportRun.latest_for(business)
    assert (latest.status, latest.account_id, latest.total) == (SUCCEEDED, new, 30)


def _switch_during_import(app, client, csrf, sandbox, business) -> tuple[str, str, ImportRun]:
    """A's import (several pages, one worker) is running when the owner switches to B
    (which revokes A in Stripe). Returns A, B and A's run once it has ended."""
    account = _connect(client, csrf, sandbox, business)
    sandbox.seed(account, 700)
    app.config["IMPORT_WORKERS"] = 1
    switched = []

    def switch_once(run):
        if not switched:
            switched.append(_switch(client, csrf, sandbox, customers=30))

    run = importer.run_in_foreground(business.id, app.config, on_page=switch_once)
    wait_until(imports_idle, timeout=60)
    return account, switched[0], run.refresh()


def test_a_stale_runs_refusal_does_not_disconnect_the_new_account(
    app, client, logged_in, sandbox, business
):
    _, new, run = _switch_during_import(app, client, logged_in, sandbox, business)
    link = link_of(business)
    assert (link.account_id, link.status) == (new, "connected")
    assert (run.status, run.last_error) == (FAILED, SUPERSEDED)
    assert "Stripe disconnected" not in page_text(client, "/customers")


def test_a_running_import_of_a_stops_writing_after_the_switch_to_b(
    app, client, logged_in, sandbox, business
):
    _, new, run = _switch_during_import(app, client, logged_in, sandbox, business)
    # A's customers written before the switch were kept as not synced; none since.
    assert _synced_ids() == _ids_of(sandbox, new)
    assert Customer.select().where(Customer.stripe_customer_id.is_null()).count() >= 100
    assert (run.status, run.last_error) == (FAILED, SUPERSEDED)
    latest = ImportRun.latest_for(business)
    assert (latest.status, latest.account_id, latest.total) == (SUCCEEDED, new, 30)
