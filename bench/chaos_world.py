"""Pieces of bench/chaos.py: the stream of changes made in Stripe while deliveries
fail, the comparison of every row with Stripe, and the request counter."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import stripe
from stripe import _http_client as stripe_http

from bench.bench_db import Reader

NAMES = ["Ada", "Bo", "Cy", "Dee", "Eve", "Fox", "Gus", "Hal"]


def count_requests() -> dict:
    """Count every HTTP request this process sends through the official library (at its
    HTTP client, so retries count too), by path, while ``counts["on"]`` is true: the
    comparison's own reads are not counted."""
    counts = {"on": False, "events": 0, "customers": 0, "other": 0, "lists": 0}
    original = stripe_http.RequestsClient.request

    def counted(self, method, url, headers, post_data=None):
        if counts["on"]:
            path = urlsplit(url).path
            key = "events" if path.startswith("/v1/events") else "other"
            key = "customers" if path.startswith("/v1/customers") else key
            counts[key] += 1
            counts["lists"] += method == "get" and path == "/v1/customers"
        return original(self, method, url, headers, post_data)

    stripe_http.RequestsClient.request = counted
    return counts


class Changes:
    """Creates (15 %), updates (70 %) and deletes (15 %) of the account's customers,
    from several threads at once, as the owner's other systems would make them."""

    def __init__(self, client: stripe.StripeClient, account: str, seed: int):
        self.client, self.options = client, {"stripe_account": account}
        self.rng = random.Random(seed)
        listing = client.v1.customers.list({"limit": 100}, self.options)
        self.live = [c.id for c in listing.auto_paging_iter()]
        self.lock = threading.Lock()
        self.failed = 0

    def _pick(self) -> tuple[str, str | None]:
        with self.lock:
            roll = self.rng.random()
            if roll < 0.15 or not self.live:
                return "create", None
            index = self.rng.randrange(len(self.live))
            if roll < 0.30:
                self.live[index], self.live[-1] = self.live[-1], self.live[index]
                return "delete", self.live.pop()
            return "update", self.live[index]

    def one(self, serial: int) -> None:
        time.sleep(max(0.0, self.started + serial / self.rate - time.monotonic()))
        kind, stripe_id = self._pick()
        name = f"{self.rng.choice(NAMES)} {serial}"
        try:
            if kind == "create":
                created = self.client.v1.customers.create(
                    {"name": name, "email": f"c{serial}@chaos.example"}, self.options
                )
                with self.lock:
                    self.live.append(created.id)
            elif kind == "delete":
                self.client.v1.customers.delete(stripe_id, options=self.options)
            else:
                self.client.v1.customers.update(
                    stripe_id, {"name": name, "email": f"u{serial}@chaos.example"}, self.options
                )
        except stripe.InvalidRequestError:  # updated just as another thread deleted it
            self.failed += 1

    def run(self, n: int, *, rate: float, threads: int, midway=None) -> float:
        """Make ``n`` changes, ``rate`` a second; call ``midway()`` once half are made.
        Returns the seconds it took."""
        started = self.started = time.monotonic()
        self.rate = rate
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(self.one, range(n // 2)))
            if midway is not None:
                midway()
            list(pool.map(self.one, range(n // 2, n)))
        return time.monotonic() - started


def differing_rows(client: stripe.StripeClient, account: str, db_url: str, business_id: int):
    """How many of the business's rows differ from Stripe now: a live customer missing,
    marked deleted or with another name or email, or a deleted one still live."""
    listing = client.v1.customers.list({"limit": 100}, {"stripe_account": account})
    truth = {c.id: (c.name, c.email) for c in listing.auto_paging_iter()}
    reader = Reader(db_url, read_only=True)
    rows = {
        sid: (name, email, bool(deleted))
        for sid, name, email, deleted in reader.execute(
            "SELECT stripe_customer_id, name, email, deleted_in_stripe_at IS NOT NULL"
            " FROM customer WHERE business_id = ? AND stripe_customer_id IS NOT NULL",
            (business_id,),
        )
    }
    reader.close()
    wrong = sum(rows.get(sid) != (*fields, False) for sid, fields in truth.items())
    wrong += sum(not deleted for sid, (_, _, deleted) in rows.items() if sid not in truth)
    return wrong
