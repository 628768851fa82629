"""Fixtures and steps shared by the Connect tests: an app wired to a real
SandboxServer, and the OAuth round trip as the owner's browser would make it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from models.catch_up_state import CatchUpState
from models.db import db_clock
from models.import_run import ACTIVE, SUCCEEDED, ImportRun
from models.stripe_account import StripeAccount
from stripe_sandbox.testing import SandboxServer
from tests.conftest import make_test_app, wait_until


@pytest.fixture(name="sandbox")
def sandbox_fixture():
    with SandboxServer() as sandbox:
        yield sandbox


def make_app(tmp_path, sandbox):
    """The suite's app, but talking to ``sandbox``."""
    return make_test_app(tmp_path, STRIPE_SANDBOX_URL=sandbox.url)


def imports_idle() -> bool:
    """No import running, and none of the work an import leads to (the catch-up each
    successful import queues) running or about to: a test may then change Stripe
    without racing it."""
    if ImportRun.select().where(ImportRun.status.in_(ACTIVE)).exists():
        return False
    if CatchUpState.select().where(CatchUpState.running_token.is_null(False)).exists():
        return False
    return all(_caught_up_after_import(link) for link in StripeAccount.select())


# The catch-up an import queues starts within moments; past this, it ran or is not coming.
CATCH_UP_GRACE = timedelta(seconds=3)


def _caught_up_after_import(link: StripeAccount) -> bool:
    """A connected link whose latest import succeeded has had the catch-up that import
    queues, or that import ended long enough ago that it would have started."""
    run = ImportRun.latest_for(link.business_id)
    if not link.is_connected or run is None or run.status != SUCCEEDED:
        return True
    if run.finished_at <= db_clock() - CATCH_UP_GRACE:
        return True
    ran = CatchUpState.for_business(link.business_id).last_run_at
    # Whole-second clocks may round the catch-up's time below the import's end.
    return ran is not None and ran >= run.finished_at - timedelta(seconds=1)


@pytest.fixture(name="app")
def connect_app_fixture(tmp_path, sandbox):
    app = make_app(tmp_path, sandbox)
    yield app
    # Background imports must end before the sandbox and the database go away.
    wait_until(imports_idle, timeout=60)


def start(client, csrf: str) -> dict[str, str]:
    """Click "Connect Stripe"; return the query of the authorize URL we were sent to."""
    response = client.post("/stripe/connect", data={"csrf_token": csrf})
    assert response.status_code == 303, response.get_data(as_text=True)
    location = urlsplit(response.location)
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    query["_url"] = f"{location.scheme}://{location.netloc}{location.path}"
    return query


def callback(client, **args):
    return client.get("/stripe/callback", query_string=args)


def connect(client, csrf: str, sandbox, account: str):
    """The whole round trip for ``account``, as if the owner clicked Connect at Stripe."""
    state = start(client, csrf)["state"]
    return callback(client, state=state, code=sandbox.authorize_code(account), scope="read_write")


def link_of(business) -> StripeAccount | None:
    return StripeAccount.for_business(business)


def has_access(sandbox, account: str) -> bool:
    """Whether Stripe (the sandbox) still lets our platform act for ``account``."""
    import stripe

    try:
        sandbox.client().v1.customers.list({"limit": 1}, {"stripe_account": account})
    except stripe.PermissionError:
        return False
    return True


def page_text(client, path: str = "/stripe") -> str:
    return client.get(path).get_data(as_text=True)
