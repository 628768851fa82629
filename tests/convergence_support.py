"""The world the convergence proof (tests/test_convergence.py) acts on: a real sandbox
whose webhooks land in a collector the test controls, an app on its own database that
runs no jobs by itself (the test plays the worker, so every interleaving is the one
Hypothesis chose), and the comparison of the app's rows with Stripe.

Stripe's own deliveries are held, not forwarded: the sandbox signs and posts every
event to ``Collector``; the test then delivers each one to the app's real webhook
endpoint (signed again at that moment, as Stripe signs each attempt), late, twice, out
of order, or never.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from models import Business, Customer, User
from models.catch_up_state import STALE_AFTER, CatchUpState
from models.db import db_now
from models.import_run import ACTIVE, INTERRUPTED, QUEUED, ImportRun
from models.stripe_account import StripeAccount
from models.stripe_object import unpack
from models.sync_check import RECONCILE, SyncCheck
from stripe_sandbox.testing import QuietHandler
from sync import importer, sync_now
from sync.catch_up import CatchUpResult, catch_up
from sync.stripe_client import account_options
from tests.conftest import PASSWORD, AuthActions
from tests.test_connect_support import callback, start
from tests.webhooks_support import deliver


class ProcessKilled(BaseException):
    """Stands in for a killed process: nothing below it gets to record anything."""


class Collector:
    """A webhook endpoint for the sandbox that keeps every event, in arrival order."""

    def __init__(self):
        self._lock = threading.Lock()
        self._events: dict[str, list[tuple[dict, bytes]]] = {}
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=QuietHandler
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _wsgi(self, environ, start_response):
        raw = Request(environ).get_data()
        event = json.loads(raw)
        with self._lock:
            self._events.setdefault(event.get("account"), []).append((event, raw))
        return Response("{}", mimetype="application/json")(environ, start_response)

    def take(self, account: str) -> list[tuple[dict, bytes]]:
        """The events of ``account`` received since the last call."""
        with self._lock:
            return self._events.pop(account, [])

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Held:
    """An event Stripe sent that the app has not been given yet."""

    event: dict
    raw: bytes


@dataclass
class Ledger:
    """What the test did, to check against: every customer id of each account and the
    rows a switch turned into ShingleAI-only rows (nothing may write them again)."""

    ids: dict[str, set[str]] = field(default_factory=dict)
    converted: dict[int, tuple] = field(default_factory=dict)


def row_state(row: Customer) -> tuple:
    return (row.stripe_customer_id, row.name, row.email, row.deleted_in_stripe_at, row.updated_at)


def _as_sent(obj: dict, stored: dict) -> dict:
    """Stripe's object in the shape the row got it: ``tax_ids`` only come when asked
    to expand them (imports and retrieves do; events never carry them, and a customer
    that only ever arrived by events has not had them read)."""
    if "tax_ids" in stored:
        return obj
    return {k: v for k, v in obj.items() if k != "tax_ids"}


class World:
    """One example's business, its two Stripe accounts, and the held deliveries."""

    def __init__(self, app, sandbox, collector: Collector, number: int, seeded=(150, 60)):
        self.app, self.sandbox, self.collector = app, sandbox, collector
        self.stripe = sandbox.client()
        self.http = app.test_client()
        email = f"owner{number}@convergence.test"
        self.owner = User.create_owner(email, PASSWORD, f"Roofing {number}")
        self.business = Business.primary_for(self.owner)
        auth = AuthActions(self.http)
        auth.login(email)
        self.csrf = auth.csrf_token()
        # Both accounts have granted our platform access; the business links one.
        self.accounts = [
            sandbox.create_account(name=f"Shop {number}{tag}", customers=n)
            for tag, n in zip("AB", seeded, strict=True)
        ]
        self.ledger = Ledger({a: self._live_ids(a) for a in self.accounts})
        self.deleted: dict[str, set[str]] = {a: set() for a in self.accounts}
        self.granted = dict.fromkeys(self.accounts, True)
        self.held: list[Held] = []
        self.current = self.accounts[0]
        self.linked = False
        self.connect(self.current)

    # -- Stripe, as the account's owner changes it ------------------------------------
    def _live_ids(self, account: str) -> set[str]:
        listing = self.stripe.v1.customers.list({"limit": 100}, account_options(account))
        return {c.id for c in listing.auto_paging_iter()}

    def live(self, account: str) -> list[str]:
        return sorted(self.ledger.ids[account] - self.deleted[account])

    def create(self, account: str, name: str, email: str) -> str:
        customer = self.stripe.v1.customers.create(
            {"name": name, "email": email}, account_options(account)
        )
        self.ledger.ids[account].add(customer.id)
        return customer.id

    def update(self, account: str, stripe_id: str, changes: dict) -> None:
        self.stripe.v1.customers.update(stripe_id, changes, account_options(account))

    def delete(self, account: str, stripe_id: str) -> None:
        self.stripe.v1.customers.delete(stripe_id, options=account_options(account))
        self.deleted[account].add(stripe_id)

    def collect(self) -> None:
        """Hold every event Stripe has sent since the last call."""
        self.sandbox.wait_for_deliveries_idle(timeout=30)
        for account in self.accounts:
            self.held.extend(Held(e, raw) for e, raw in self.collector.take(account))

    # -- deliveries ----------------------------------------------------------------------
    def deliver(self, held: Held) -> int:
        """Give one event to the app's webhook endpoint; its HTTP status."""
        return deliver(self.http, held.raw).status_code

    # -- the Connect link, through the owner's pages ----------------------------------
    def connect(self, account: str) -> None:
        """Connect Stripe with ``account`` (a reconnect or, confirmed, a switch)."""
        code = self.sandbox.authorize_code(account)
        state = start(self.http, self.csrf)["state"]
        response = callback(self.http, state=state, code=code, scope="read_write")
        if "/stripe/switch/" in (response.location or ""):
            before = {r.id: row_state(r) for r in self._synced_rows()}
            decided = self.http.post(
                response.location, data={"csrf_token": self.csrf, "decision": "switch"}
            )
            assert decided.status_code in (302, 303), decided.get_data(as_text=True)
            self.ledger.converted.update(before)
        link = StripeAccount.for_business(self.business)
        assert link.is_connected and link.account_id == account, response.location
        self.current, self.linked = account, True
        self.granted[account] = True

    def disconnect(self) -> None:
        """The owner's Disconnect (Stripe then sends account.application.deauthorized)."""
        response = self.http.post("/stripe/disconnect", data={"csrf_token": self.csrf})
        assert response.status_code == 302, response.get_data(as_text=True)
        self.linked, self.granted[self.current] = False, False

    def rename_in_dashboard(self, account: str, stripe_id: str, name: str) -> None:
        """A change made in Stripe's dashboard, which needs no access of ours."""
        self.sandbox.control.trigger("customer.updated", account, customer=stripe_id, name=name)

    # -- imports, run by the test as a worker would -----------------------------------
    def pending_run(self) -> ImportRun | None:
        run = ImportRun.latest_for(self.business)
        if run is None or run.status not in (*ACTIVE, INTERRUPTED):
            return None
        return run

    def run_import(self, on_page=None) -> None:
        """Take the business's queued, interrupted or crashed run and execute it, as
        the recovery sweep and a worker would (a crashed run counts as stale)."""
        run = self.pending_run()
        if run is None:
            return
        if run.status != QUEUED:
            # Its worker is dead: the sweep would requeue it once its heartbeat aged.
            ImportRun.update(status=INTERRUPTED).where(ImportRun.id == run.id).execute()
            with self.app.app_context():
                requeued, _ = importer.recover(self.app.config)
            if run.id not in requeued:
                return
        run = ImportRun.get_by_id(run.id)
        if run.claim(from_status=QUEUED):  # what importer.take_and_execute does
            importer.execute(run, self.app.config, on_page=on_page)

    def pending_check(self) -> SyncCheck | None:
        check = SyncCheck.latest_for(self.business)
        if check is None or check.status not in (*ACTIVE, INTERRUPTED):
            return None
        return check

    def check_every_customer(self, on_progress=None) -> None:
        """ "Check every customer" (reconciliation), or resume the one a killed process
        left, run here as a worker would."""
        crashed = self.pending_check()
        if crashed is not None and crashed.status != QUEUED:
            SyncCheck.update(status=INTERRUPTED).where(SyncCheck.id == crashed.id).execute()
        check, _ = sync_now.start(self.business.id, RECONCILE, self.app.config, reason="owner")
        sync_now.take_and_execute(check.id, self.app.config, on_progress=on_progress)

    def catch_up(self, on_progress=None) -> CatchUpResult:
        """Catch-up as its periodic job runs it; a run whose process was killed holds
        the business's claim until it is ``STALE_AFTER`` old, so that time passes first."""
        CatchUpState.update(running_at=db_now(-STALE_AFTER - 1)).where(
            (CatchUpState.business == self.business) & CatchUpState.running_token.is_null(False)
        ).execute()
        return catch_up(
            self.business.id, self.app.config, trigger="schedule", on_progress=on_progress
        )

    def _synced_rows(self):
        return Customer.for_business(self.business).where(
            Customer.stripe_customer_id.is_null(False)
        )

    # -- the invariant ------------------------------------------------------------------
    def differences(self) -> list[str]:
        """Every way the business's rows differ from Stripe now, in words."""
        account = self.current
        listing = self.stripe.v1.customers.list(
            {"limit": 100, "expand": ["data.tax_ids"]}, account_options(account)
        )
        truth = {c.id: c.to_dict() for c in listing.auto_paging_iter()}
        rows = {r.stripe_customer_id: r for r in self._synced_rows()}
        problems = []
        for stripe_id, obj in truth.items():
            row = rows.get(stripe_id)
            if row is None:
                problems.append(f"{stripe_id}: in Stripe, missing from the list")
            elif row.deleted_in_stripe_at is not None:
                problems.append(f"{stripe_id}: live in Stripe, marked deleted")
            elif (row.name, row.email) != (obj["name"], obj["email"]):
                problems.append(f"{stripe_id}: {(row.name, row.email)} != Stripe's {obj['name']}")
            elif (stored := unpack(row.stripe_object)) != _as_sent(obj, stored):
                obj = _as_sent(obj, stored)
                keys = sorted(k for k in {*stored, *obj} if stored.get(k) != obj.get(k))
                problems.append(
                    f"{stripe_id}: stored object differs from Stripe's in {keys}: "
                    f"{[(stored.get(k), obj.get(k)) for k in keys]}"
                )
        others = set().union(*(self.ledger.ids[a] for a in self.accounts if a != account))
        for stripe_id, row in rows.items():
            if stripe_id in truth:
                continue
            if stripe_id in others and stripe_id not in self.ledger.ids[account]:
                problems.append(f"{stripe_id}: a customer of another account was written")
            elif stripe_id not in self.deleted[account]:
                problems.append(f"{stripe_id}: not a customer of {account}")
            elif row.deleted_in_stripe_at is None:
                problems.append(f"{stripe_id}: deleted in Stripe, live in the list")
        for row_id, before in self.ledger.converted.items():
            row = Customer.get_or_none(Customer.id == row_id)
            if row is None or row.stripe_customer_id is not None:
                problems.append(f"row {row_id}: a converted row of an old account was re-linked")
            elif (row.name, row.email, row.deleted_in_stripe_at) != before[1:4]:
                problems.append(f"row {row_id}: a converted row of an old account was written")
        return problems
