"""Reads of Stripe are dated by when Stripe could have made them (issue 15, items 2
and 3, and the tie fetch): a page or a retrieve is older than its ``Date`` by up to the
request's measured time, so a change Stripe made after the read, in the same second as
the answer or seconds before a slow one, wins over what the read saw. Each test makes
that change in the sandbox right after it served the read and before its answer
leaves, and delivers the change's event to the app."""

from __future__ import annotations

import threading
import time

import flask
import pytest

from models import Customer
from models.import_run import ImportRun
from sync import importer
from sync.import_pass import Pass
from sync.import_sweep import sweep
from sync.pacing import bucket_for
from sync.stripe_client import account_options, make_client
from tests.conftest import make_customer, make_test_app
from tests.import_support import FAST, assert_mirrors, link, sandbox
from tests.webhooks_support import SECRET, deliver, make_event

__all__ = ["sandbox"]

RENAMED = "Renamed after Stripe read it"


@pytest.fixture
def app(tmp_path, sandbox):
    return make_test_app(
        tmp_path, STRIPE_SANDBOX_URL=sandbox.url, STRIPE_WEBHOOK_SECRET=SECRET, **FAST
    )


class AfterRead:
    """Runs ``action`` once, in the sandbox, right after it served the first ``GET
    path`` and before that answer leaves (the sandbox holds an answer after serving it,
    stripe_sandbox/api.py ``held_answers``)."""

    def __init__(self, path: str, action):
        self.path, self.action = path, action
        self.done = threading.Event()
        self.failure: BaseException | None = None

    def _served(self, sender, response, **extra):
        request = flask.request
        if request.method != "GET" or request.path != self.path or self.done.is_set():
            return
        self.done.set()
        try:
            self.action()
        except BaseException as error:  # the sandbox would only answer 500: keep it
            self.failure = error
            raise

    def __enter__(self):
        flask.request_finished.connect(self._served)
        return self

    def __exit__(self, *exc):
        flask.request_finished.disconnect(self._served)
        if self.failure is not None:
            raise self.failure
        assert self.done.is_set(), f"the sandbox never served GET {self.path}"


def change_and_deliver(sandbox, client, account: str, customer_id: str) -> None:
    """Rename the customer in Stripe and deliver the resulting event to the app, as
    Stripe would within moments (from the sandbox's thread)."""
    stripe, options = sandbox.client(), account_options(account)
    stripe.v1.customers.update(customer_id, {"name": RENAMED}, options)
    event = stripe.v1.events.list({"type": "customer.updated", "limit": 1}, options).data[0]
    assert event.data.object.id == customer_id
    response = deliver(client, event.to_dict())
    assert response.status_code == 200, response.json


def test_a_page_answered_slowly_loses_to_a_change_made_after_its_read(
    app, sandbox, business, client
):
    """Stripe read the page, the customer was renamed, and the answer came 3 s later:
    stamped Date - 1, the page would claim to be newer than the rename."""
    account = sandbox.create_account(customers=5)
    link(business, account)
    newest = sandbox.client().v1.customers.list({"limit": 1}, account_options(account)).data[0]
    sandbox.configure(list_answer_latency_ms=3000)

    def rename_while_answering():
        change_and_deliver(sandbox, client, account, newest.id)
        sandbox.configure(list_answer_latency_ms=0)  # later pages answer at once

    with AfterRead("/v1/customers", rename_while_answering):
        run = importer.run_in_foreground(business.id, app.config)
    assert run.status == "succeeded", run.last_error
    assert Customer.get(Customer.stripe_customer_id == newest.id).name == RENAMED
    assert_mirrors(sandbox, account, business)


def test_a_sweep_retrieve_loses_to_a_change_made_in_its_answers_second(
    app, sandbox, business, client
):
    """The sweep retrieves a customer, which is renamed (and its event applied) before
    the answer leaves and before the sweep writes: stamped with its own Date second, the
    retrieve would replace the newer rename."""
    account = sandbox.create_account()
    link(business, account)
    stripe, options = sandbox.client(), account_options(account)
    customers = [stripe.v1.customers.create({"name": f"Kept {i}"}, options) for i in range(2)]
    for customer in customers:  # rows a run has not seen, as after a reconnect
        make_customer(
            business,
            name=customer.name,
            stripe_customer_id=customer.id,
            customer_since=customer.created,
            stripe_version_at=1_000,
            stripe_version_source=0,
        )
    run = ImportRun.create(business=business, status="queued")
    assert run.claim(from_status="queued")
    run.stripe_started_at = customers[-1].created + 10**6  # every row is unseen
    import_pass = Pass(
        run,
        make_client(app.config),
        account,
        bucket_for(app.config, account=account, livemode=False),
        workers=1,
    )
    first = customers[0].id
    with AfterRead(
        f"/v1/customers/{first}", lambda: change_and_deliver(sandbox, client, account, first)
    ):
        assert sweep(import_pass) == 0
    assert Customer.get(Customer.stripe_customer_id == first).name == RENAMED
    assert_mirrors(sandbox, account, business)


def test_a_tie_is_settled_only_by_a_read_made_after_its_second(app, sandbox, business, client):
    """Two events of this very second tie; the retrieve that settles them must be read
    after the second ended. Here the customer is renamed right after that read, while
    the answer takes 1.5 s: the retrieve must lose to the rename's event."""
    account = sandbox.create_account()
    link(business, account)
    stripe, options = sandbox.client(), account_options(account)
    customer = stripe.v1.customers.create({"name": "A"}, options)
    stripe.v1.customers.update(customer.id, {"name": "B"}, options)
    now = int(time.time())
    obj = customer.to_dict()
    tied = [
        make_event("customer.updated", {**obj, "name": name}, created=now, account=account)
        for name in ("A", "B")
    ]
    assert deliver(client, tied[0]).json["outcome"] == "applied"
    sandbox.configure(retrieve_answer_latency_ms=1500)
    renamed = []

    def rename_after_the_read():
        stripe.v1.customers.update(customer.id, {"name": RENAMED}, options)
        renamed.append(stripe.v1.events.list({"limit": 1}, options).data[0].to_dict())

    with AfterRead(f"/v1/customers/{customer.id}", rename_after_the_read):
        assert deliver(client, tied[1]).json["outcome"] == "applied"
    assert renamed[0]["data"]["object"]["name"] == RENAMED
    assert deliver(client, renamed[0]).status_code == 200
    assert Customer.get(Customer.stripe_customer_id == customer.id).name == RENAMED
