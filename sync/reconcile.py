"""Reconciliation: check every customer of the linked account against Stripe, correct
the rows that differ, and mark the rows Stripe no longer has as deleted — after a
retrieve confirms it (Stripe's ``{id, object, deleted: true}`` stub, or a 404).

It is the import's pass (sync/import_pass.py), not a copy of it: the same sliced,
paced, resumable listing, the same final ``created[gte]`` pass and the same sweep of
rows the listing did not see (sync/import_sweep.py, one retrieve each). Only the page
write differs (``Pass._apply``): each page is compared with the stored rows first, so
the run can say how many rows were *corrected*, not merely rewritten. Every row still
goes through the one writer under the ordering rule, so a webhook newer than the page
wins, and rows in agreement take the page's stamp, which is how the sweep knows they
were seen. Requests are counted on the client, every attempt included.

Cost, announced before a run (``estimate``): the listing's bound from sync/slices.py,
⌈N/100⌉ + ⌊N/1000⌋ list requests (+ ``HEAD_START`` once N > 100, + 1 for the final
pass, + 1 for a first page read again when a change landed in the same seconds), plus
one retrieve per row missing from Stripe, which nobody can count beforehand.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import stripe

from models.customer_list import stats
from models.stripe_account import StripeAccount
from models.sync_check import SyncCheck
from sync.customers import ApplyResult, Change, apply_changes, unchanged
from sync.import_pass import Pass
from sync.ordering import Version
from sync.pacing import bucket_for
from sync.slices import CUSTOMERS_PER_SPLIT, HEAD_START, PAGE

# A list page takes Stripe about this long; an unpaced pass is bound by it.
SECONDS_PER_REQUEST = 0.25


class CountingClient:
    """The Stripe client, counting every request made through it (retries included)."""

    def __init__(self, client: stripe.StripeClient):
        self._client = client
        self._lock = threading.Lock()
        self.count = 0

    def raw_request(self, *args, **kwargs):
        with self._lock:
            self.count += 1
        return self._client.raw_request(*args, **kwargs)


class ReconcilePass(Pass):
    """The import's pass over a claimed SyncCheck, comparing each page before it writes."""

    def __init__(self, run: SyncCheck, client: stripe.StripeClient, *args, **kwargs):
        self.counter = CountingClient(client)
        self.spent_before = run.requests  # a resumed run keeps counting
        super().__init__(run, self.counter, *args, **kwargs)

    def _apply(self, customers: list, version: Version) -> tuple[ApplyResult, dict]:
        business_id = self.run.business_id
        same = unchanged(business_id, customers)
        fixed = apply_changes(
            business_id,
            [Change(c, version) for c in customers if c["id"] not in same],
            fence=self.fence,
        )
        apply_changes(
            business_id,
            [Change(c, version) for c in customers if c["id"] in same],
            fence=self.fence,
        )
        run = type(self.run)
        return fixed, {
            "checked": run.checked + len(customers),
            "corrected": run.corrected + fixed.created + fixed.updated,
        }

    def swept(self, confirmed: int, result: ApplyResult) -> dict:
        run = type(self.run)
        return {
            "checked": run.checked + confirmed,
            "corrected": run.corrected + result.updated,
            "marked_deleted": run.marked_deleted + result.deleted,
        }

    def _save(self, **fields) -> None:
        fields["requests"] = self.spent_before + self.counter.count
        super()._save(**fields)


@dataclass(frozen=True)
class Estimate:
    """What a reconciliation will cost, from the rows we hold."""

    customers: int
    requests: int  # list requests, at most; plus one retrieve per row gone from Stripe
    seconds: int

    @property
    def duration(self) -> str:
        """ "~40 s", "~2 min": the wait the owner can expect."""
        if self.seconds < 90:
            return f"~{max(1, self.seconds)} s"
        return f"~{math.ceil(self.seconds / 60)} min"


def list_requests(customers: int) -> int:
    """The listing's bound for an account of ``customers`` (sync/slices.py)."""
    pages = max(1, math.ceil(customers / PAGE))
    splits = customers // CUSTOMERS_PER_SPLIT + (HEAD_START if customers > PAGE else 0)
    return pages + splits + 2


def estimate(business_id: int, config, link: StripeAccount) -> Estimate:
    """The cost of checking every customer of the business now: its synced rows are
    the best count of Stripe's customers we have; the time follows the account's
    budget (sync/pacing.bucket_for) or, unpaced, the request time over the workers."""
    customers = stats(business_id)["synced"]  # trigger-kept: no count over the rows
    requests = list_requests(customers)
    workers = max(1, int(config.get("IMPORT_WORKERS", 16)))
    seconds = requests * SECONDS_PER_REQUEST / min(workers, max(1, requests // 10))
    rate = bucket_for(config, account=link.account_id, livemode=link.livemode).ceiling
    if rate is not None:
        seconds = max(seconds, requests / rate)
    return Estimate(customers, requests, math.ceil(seconds))
