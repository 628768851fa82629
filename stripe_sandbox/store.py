"""In-memory Stripe state: accounts, their customers and events, OAuth codes.

One re-entrant lock guards everything; each customer's JSON bytes are cached at write
time so a list page is a bisect plus a byte join (the import benchmark needs hundreds of
100-item pages per second). Every change emits an Event to `listener` (the webhook
dispatcher), which is how the app under test learns about it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stripe_sandbox import customer_params, errors, objects, tax_ids
from stripe_sandbox.event_store import EventMethods
from stripe_sandbox.index import Key, SortedKeys, created_bounds, page
from stripe_sandbox.seed import fake_customers, paused_gc
from stripe_sandbox.settings import Settings
from stripe_sandbox.tax_id_store import TaxIdMethods

Listener = Callable[[dict[str, Any], bytes, list[dict[str, str]]], None]


@dataclass
class Account:
    """A connected account; `connected` is whether it currently authorizes our platform."""

    id: str
    name: str
    created: int
    connected: bool
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    raw: dict[str, bytes] = field(default_factory=dict)
    keys: dict[str, Key] = field(default_factory=dict)  # includes deleted: cursors survive
    index: SortedKeys = field(default_factory=SortedKeys)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    event_raw: dict[str, bytes] = field(default_factory=dict)
    event_index: SortedKeys = field(default_factory=SortedKeys)
    # Each customer's tax ids, oldest first (Stripe embeds them only when expanded).
    tax_ids: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # When a code for it was last exchanged: the consent page preselects the account
    # the user linked before, as Stripe's shows the account they are signed in to.
    authorized_at: float = 0.0


@dataclass
class Request:
    """Who caused a change, echoed in the event's `request` field."""

    id: str | None = None
    idempotency_key: str | None = None


class Store(EventMethods, TaxIdMethods):
    """All sandbox state; public methods are thread-safe and raise `errors.*` on misuse."""

    def __init__(self, settings: Settings, listener: Listener | None = None):
        self.settings = settings
        self.listener = listener
        self.lock = threading.RLock()
        self.rng = random.Random()
        self.accounts: dict[str, Account] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.endpoints: list[dict[str, str]] = []
        if settings.webhook_url:
            self.endpoints.append({"url": settings.webhook_url, "secret": settings.webhook_secret})
        self.seq = 0
        self.version = 0

    # -- persistence -------------------------------------------------------------------
    _PERSISTED = ("accounts", "codes", "refresh_tokens", "endpoints", "seq")

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {name: getattr(self, name) for name in self._PERSISTED}

    def restore(self, state: dict[str, Any]) -> None:
        with self.lock:
            for name in self._PERSISTED:
                if name in state:
                    setattr(self, name, state[name])
            if self.settings.webhook_url:
                self.add_endpoint(self.settings.webhook_url, self.settings.webhook_secret)

    # -- accounts ----------------------------------------------------------------------
    def create_account(self, name: str, *, connected: bool = True, customers: int = 0) -> Account:
        with self.lock:
            account = Account(objects.new_id("acct_", 16), name, int(time.time()), connected)
            self.accounts[account.id] = account
            self._changed()
        if customers:
            self.seed(account.id, customers)
        return account

    def account(self, account_id: str) -> Account:
        """The account, connected or not (for the sandbox's own page and control API)."""
        with self.lock:
            account = self.accounts.get(account_id)
        if account is None:
            raise errors.no_such("account", account_id, "account")
        return account

    def accessible(self, account_id: str, key: str) -> Account:
        """The account as our platform may see it: 403 when unknown or revoked."""
        with self.lock:
            account = self.accounts.get(account_id)
            if account is None or not account.connected:
                raise errors.no_access(key, account_id)
            return account

    def revoke(self, account_id: str) -> None:
        """The owner (or Stripe) removes our access; emits account.application.deauthorized."""
        with self.lock:
            account = self.account(account_id)
            if not account.connected:
                return
            account.connected = False
            app = objects.application(self.settings.client_id, self.settings.platform_name)
            self._emit(account, "account.application.deauthorized", app)

    def add_endpoint(self, url: str, secret: str) -> None:
        with self.lock:
            if {"url": url, "secret": secret} not in self.endpoints:
                self.endpoints.append({"url": url, "secret": secret})
                self._changed()

    # -- customers ---------------------------------------------------------------------
    def create_customer(
        self, account_id: str, params: dict[str, Any], req: Request | None = None
    ) -> dict[str, Any]:
        customer_params.check(params, creating=True)
        wanted = tax_ids.expansions(params, "tax_ids")
        data = params.get("tax_id_data") or []
        if not isinstance(data, list):
            raise errors.StripeError(400, "Invalid array", param="tax_id_data")
        checked = [tax_ids.check(d if isinstance(d, dict) else {}) for d in data]
        with self.lock:
            account = self.account(account_id)
            cust = objects.customer(objects.new_id("cus_"), int(time.time()))
            customer_params.apply(cust, params)
            self._put(account, cust)
            self._emit(account, "customer.created", cust, req=req)
            for kind, value in checked:
                self._add_tax_id(account, cust["id"], kind, value, req)
            return self._shown(account, cust, wanted)

    def retrieve_customer(
        self, account_id: str, cid: str, params: dict[str, Any] | None = None
    ) -> bytes:
        wanted = tax_ids.expansions(params or {}, "tax_ids")
        with self.lock:
            account = self.account(account_id)
            if cid in account.raw:
                raw = account.raw[cid]
                return tax_ids.expanded(raw, cid, self._tax_ids(account, cid)) if wanted else raw
            if cid in account.keys:
                return objects.dumps(objects.deleted_customer(cid))
        raise errors.no_such("customer", cid)

    def update_customer(
        self, account_id: str, cid: str, params: dict[str, Any], req: Request | None = None
    ) -> dict[str, Any]:
        customer_params.check(params)
        wanted = tax_ids.expansions(params, "tax_ids")
        with self.lock:
            account = self.account(account_id)
            old = account.customers.get(cid)
            if old is None:
                raise errors.no_such("customer", cid)
            new = customer_params.apply(dict(old), params)
            previous = customer_params.previous_attributes(old, new)
            self._put(account, new)
            if previous:
                self._emit(account, "customer.updated", new, previous=previous, req=req)
            return self._shown(account, new, wanted)

    def delete_customer(
        self, account_id: str, cid: str, req: Request | None = None
    ) -> dict[str, Any]:
        with self.lock:
            account = self.account(account_id)
            old = account.customers.pop(cid, None)
            if old is None:
                raise errors.no_such("customer", cid)
            del account.raw[cid]
            account.index.remove(account.keys[cid])
            # Stripe's customer.deleted carries the full object as it was before deletion.
            self._emit(account, "customer.deleted", old, req=req)
            return objects.deleted_customer(cid)

    def list_customers(self, account_id: str, params: dict[str, Any]) -> tuple[list[bytes], bool]:
        wanted = tax_ids.expansions(params, "data.tax_ids")
        with self.lock:
            account = self.account(account_id)
            keys = account.index.keys
            email = params.get("email")
            if email is not None:
                keys = [k for k in keys if account.customers[k[2]]["email"] == email]
            found = self._page(account.keys, keys, params, "customer")
            raws = [account.raw[k[2]] for k in found[0]]
            if wanted:
                raws = [
                    tax_ids.expanded(raw, k[2], self._tax_ids(account, k[2]))
                    for raw, k in zip(raws, found[0], strict=True)
                ]
            return raws, found[1]

    def seed(self, account_id: str, n: int, created: list[int] | None = None) -> int:
        """Add `n` fake customers, or one per stamp of ``created`` (no events: they
        predate the connection, like history)."""
        with self.lock:
            self.account(account_id)
            rng = random.Random(self.rng.random())
        with paused_gc():  # the slow part, done outside the lock
            batch, taxes = fake_customers(n, rng=rng, stamps=created)
            n = len(batch)
            raws = [objects.dumps(c) for c in batch]
        with self.lock:
            account = self.account(account_id)
            keys = []
            for cust, raw in zip(batch, raws, strict=True):
                if cust["id"] in account.keys:  # astronomically rare; keep ids unique
                    taxes.pop(cust["id"], None)  # they name the old id
                    cust["id"] = objects.new_id("cus_")
                    raw = objects.dumps(cust)
                if taxes.get(cust["id"]):
                    account.tax_ids[cust["id"]] = taxes[cust["id"]]
                self.seq += 1
                key = (cust["created"], self.seq, cust["id"])
                account.customers[cust["id"]] = cust
                account.raw[cust["id"]] = raw
                account.keys[cust["id"]] = key
                keys.append(key)
            account.index.add_many(keys)
            self._changed()
        return n

    # -- internals ---------------------------------------------------------------------
    def _changed(self) -> None:
        self.version += 1

    def _put(self, account: Account, cust: dict[str, Any]) -> None:
        cid = cust["id"]
        if cid not in account.keys:
            self.seq += 1
            account.keys[cid] = (cust["created"], self.seq, cid)
            account.index.add(account.keys[cid])
        account.customers[cid] = cust
        account.raw[cid] = objects.dumps(cust)
        self._changed()

    def _page(
        self, all_keys: dict[str, Key], keys: list[Key], params: dict[str, Any], kind: str
    ) -> tuple[list[Key], bool]:
        cursors = {}
        for name in ("starting_after", "ending_before"):
            if params.get(name):
                if params[name] not in all_keys:
                    raise errors.no_such(kind, params[name], name)
                cursors[name] = all_keys[params[name]]
        return page(
            keys,
            limit=params["limit"],
            created=created_bounds(params.get("created")),
            starting_after=cursors.get("starting_after"),
            ending_before=cursors.get("ending_before"),
        )

    def _emit(
        self,
        account: Account,
        type: str,
        obj: dict[str, Any],
        *,
        previous: dict[str, Any] | None = None,
        req: Request | None = None,
        created: int | None = None,
        deliver: bool = True,
    ) -> dict[str, Any]:
        """Record an event with the account (every change Stripe makes is listable)
        and hand it to the webhook dispatcher, unless it is seeded history."""
        req = req or Request()
        evt = objects.event(
            type=type,
            account=account.id,
            obj=obj,
            api_version=self.settings.api_version,
            pending_webhooks=len(self.endpoints),
            previous=previous,
            request_id=req.id,
            idempotency_key=req.idempotency_key,
        )
        if created is not None:
            evt["created"] = created
        if not deliver:
            evt["pending_webhooks"] = 0
        raw = objects.dumps(evt)
        self.seq += 1
        account.events[evt["id"]] = evt
        account.event_raw[evt["id"]] = raw
        account.event_index.add((evt["created"], self.seq, evt["id"]))
        self._changed()
        if deliver and self.listener is not None:
            self.listener(evt, raw, list(self.endpoints))
        return evt
