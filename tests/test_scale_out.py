"""The scaled-out layout as real processes: two app processes under gunicorn and two
``flask worker``s on one database and one Redis. Webhooks sent round-robin to both
apps, duplicated and reordered, end at Stripe's final state; an import whose worker is
killed with -9 resumes on the other worker from its last committed page; two Connect
callbacks for one business on two processes at once link it once."""

from __future__ import annotations

import json
import os
import random
import re
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from models import Business, Customer, StripeAccount, User
from models.import_run import ImportRun
from models.webhook_event import WebhookEvent
from stripe_sandbox.testing import SandboxServer
from sync import import_jobs
from tests.conftest import PASSWORD, wait_until
from tests.import_support import assert_mirrors, wait_for_run
from tests.scale_support import Cluster, redis_url
from tests.test_connect_support import has_access
from tests.webhooks_support import ACCOUNT, BASE, SECRET, make_event, sign, stripe_customer

__all__ = ["redis_url"]
pytestmark = pytest.mark.xdist_group("scale_out")


@pytest.fixture
def sandbox():
    with SandboxServer() as server:
        yield server


@pytest.fixture
def cluster(tmp_path, redis_url, sandbox):
    cluster = Cluster(
        tmp_path,
        redis_url,
        sandbox.url,
        STRIPE_WEBHOOK_SECRET=SECRET,
        IMPORT_STALE_AFTER=3,
        IMPORT_WORKERS=2,
        IMPORT_BACKOFF=0.01,
        STRIPE_RATE_LIMIT=10,  # slow enough to kill a worker mid-import
    )
    yield cluster
    cluster.stop()


@pytest.fixture
def business(cluster) -> Business:
    owner = User.create_owner("owner@example.com", PASSWORD, "Shingle Roofing")
    return Business.primary_for(owner)


def _history(customers: int, versions: int) -> tuple[list[dict], dict[str, dict]]:
    """Each customer's events, a second apart, the last of every fifth a deletion;
    and what Stripe holds in the end."""
    events, final = [], {}
    for n in range(customers):
        cid = f"cus_scale{n:04d}"
        for version in range(versions):
            obj = stripe_customer(cid, name=f"{cid} v{version}", email=f"{n}.{version}@x.test")
            last = version == versions - 1
            kind = "customer.deleted" if last and n % 5 == 0 else "customer.updated"
            kind = "customer.created" if version == 0 else kind
            events.append(make_event(kind, obj, created=BASE + 2 * version))
            final[cid] = {**obj, "deleted": kind == "customer.deleted"}
    return events, final


def test_webhooks_round_robin_to_two_processes_end_at_stripes_state(cluster, business):
    webs = [cluster.start_web(), cluster.start_web()]
    StripeAccount.create(business=business, account_id=ACCOUNT)
    events, final = _history(customers=60, versions=4)
    deliveries = events + random.Random(7).sample(events, len(events) // 5)  # duplicates
    random.Random(11).shuffle(deliveries)  # reordered across processes

    def send(numbered: tuple[int, dict]) -> int:
        index, event = numbered
        body = json.dumps(event).encode()
        response = requests.post(
            f"{webs[index % 2]}/webhooks/stripe",
            data=body,
            headers={"Stripe-Signature": sign(body), "Content-Type": "application/json"},
            timeout=30,
        )
        return response.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(send, enumerate(deliveries)))
    assert set(statuses) == {200}
    assert WebhookEvent.select().count() == len(events)  # each recorded once
    for cid, expected in final.items():
        row = Customer.get(Customer.stripe_customer_id == cid)
        assert (row.name, row.email) == (expected["name"], expected["email"]), cid
        assert (row.deleted_in_stripe_at is not None) is expected["deleted"], cid


def test_an_import_resumes_on_the_other_worker_after_a_kill_9(cluster, sandbox, business):
    workers = [cluster.start_worker(), cluster.start_worker()]
    account = sandbox.create_account(customers=3000)
    StripeAccount.create(business=business, account_id=account)
    sandbox.configure(latency_ms=40)
    run_id = import_jobs.start_import(business.id, config=cluster.app.config).id

    def holder_after_pages():
        run = ImportRun.get_by_id(run_id)
        return run.owner_token if run.pages >= 3 and run.owner_token else None

    token = wait_until(holder_after_pages, timeout=60, message="three committed pages")
    pid = int(token.split(":")[1])
    victim = next(worker for worker in workers if worker.pid == pid)
    survivor = next(worker for worker in workers if worker.pid != pid)
    os.kill(pid, signal.SIGKILL)
    victim.wait(timeout=10)
    committed = ImportRun.get_by_id(run_id).pages

    run = wait_for_run(run_id, statuses=("succeeded", "failed"), timeout=120)
    assert run.status == "succeeded", run.last_error
    assert int(run.owner_token.split(":")[1]) == survivor.pid
    assert run.pages > committed
    # From its last committed page: a restart from scratch would re-apply the pages
    # committed before the kill as updates.
    assert run.created == 3000
    assert run.updated < 100
    assert_mirrors(sandbox, account, business)


def test_two_connect_callbacks_on_two_processes_link_the_business_once(cluster, sandbox, business):
    webs = [cluster.start_web(), cluster.start_web()]
    cluster.start_worker()
    account = sandbox.create_account(customers=50, connected=False)
    session = requests.Session()
    token = _csrf(session, f"{webs[0]}/login")
    session.post(
        f"{webs[0]}/login",
        data={"email": "owner@example.com", "password": PASSWORD, "csrf_token": token},
    )
    token = _csrf(session, f"{webs[0]}/stripe")
    started = session.post(
        f"{webs[0]}/stripe/connect", data={"csrf_token": token}, allow_redirects=False
    )
    assert started.status_code == 303
    state = re.search(r"state=([^&]+)", started.headers["Location"]).group(1)
    code = sandbox.authorize_code(account)

    def callback(web: str) -> int:
        return session.get(
            f"{web}/stripe/callback",
            params={"state": state, "code": code, "scope": "read_write"},
            allow_redirects=False,
            timeout=30,
        ).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(callback, webs))
    assert statuses == [302, 400]  # one links; the other finds the attempt used
    link = StripeAccount.for_business(business)
    assert (link.account_id, link.status) == (account, "connected")
    assert has_access(sandbox, account)  # the code was exchanged once
    assert ImportRun.select().count() == 1
    run = wait_for_run(ImportRun.get().id, timeout=60)
    assert run.status == "succeeded", run.last_error
    assert_mirrors(sandbox, account, business)


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
