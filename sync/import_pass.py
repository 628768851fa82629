"""One pass of the import over a Stripe account: probe the account's `created` range,
page its slices concurrently (paced by one token bucket), and write each page in one
transaction together with the run's resume position, through the one writer.

Workers only fetch; a single writer (the calling thread) applies pages, so SQLite sees
one writer at a time instead of a dozen threads fighting over its lock. A heartbeat
thread keeps the run's claim alive through every wait (rate limits, long sweeps), and
every write is fenced by the claim's token, so a worker presumed dead that wakes up
again cannot write over the one that took its run over.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import stripe
from peewee import DatabaseError, fn

from models.customer import Customer
from models.db import db, write_transaction
from models.import_run import ClaimLost, ImportRun
from models.stripe_account import LinkFence
from sync.customer_input import storable_customers
from sync.customers import ApplyResult, Change, apply_changes
from sync.import_sweep import seen_since, sweep
from sync.ordering import Source, Version, snapshot_version
from sync.pacing import Stopped, TokenBucket, with_retries
from sync.slices import Plan, Position
from sync.stripe_client import EXPAND_LIST, timed_read

log = logging.getLogger(__name__)

# The final pass starts this long before the run's first answer, so clock skew between
# Stripe's front ends and whole-second stamps cannot open a gap.
TAIL_MARGIN = 60
HEARTBEAT_EVERY = 5.0
IDLE_POLL = 0.05


@dataclass(frozen=True)
class Page:
    slice: int
    customers: list
    read_second: int  # when Stripe read it (sync/stripe_client.py read_second)
    position: Position


class Pass:
    """Runs (or resumes) the fetch-and-write work of one claimed ImportRun (or of a
    run of a subclass with its own table: models/sync_check.py). Reconciliation
    (sync/reconcile.py) is this pass with ``_commit_page`` comparing before it writes."""

    def __init__(
        self,
        run: ImportRun,
        client: stripe.StripeClient,
        account: str,
        bucket: TokenBucket,
        *,
        workers: int,
        on_page: Callable[[ImportRun], None] | None = None,
        stop: threading.Event | None = None,
        heartbeat_every: float = HEARTBEAT_EVERY,
        fence: LinkFence | None = None,
    ):
        self.run, self.client, self.account = run, client, account
        self.bucket, self.workers, self.on_page = bucket, max(1, workers), on_page
        self.stop = stop if stop is not None else threading.Event()
        self.heartbeat_every = heartbeat_every
        self.fence = fence  # every write checks it: StaleLink once the link changed
        self.failure: BaseException | None = None
        self.lost = False

    # -- Stripe ------------------------------------------------------------------------
    def list_customers(self, params: dict):
        """One paced, retried list request; returns the raw response (JSON dicts: the
        import never needs StripeObjects, and building 100 of them per page costs more
        than the request) and the second Stripe read it in, timed on the attempt that
        succeeded. Tax ids come expanded, so the stored object has them."""
        return with_retries(
            lambda: timed_read(
                lambda: self.client.raw_request(
                    "get",
                    "/v1/customers",
                    stripe_account=self.account,
                    expand=list(EXPAND_LIST),
                    **params,
                )
            ),
            self.bucket,
            stop=self.stop,
        )

    # -- the whole pass ----------------------------------------------------------------
    def execute(self) -> None:
        """Run the pass to its end; ``ClaimLost`` when another worker took the run over,
        ``Stopped`` when ``stop`` was set from outside."""
        finished = threading.Event()
        beater = threading.Thread(
            target=self._beat, args=(finished,), name=f"import-{self.run.id}-heartbeat"
        )
        beater.start()
        try:
            self._execute()
        except Stopped:
            if self.lost:
                raise ClaimLost from None
            raise
        finally:
            finished.set()
            beater.join()
        if self.lost:
            raise ClaimLost

    def _beat(self, finished: threading.Event) -> None:
        """Beat the heartbeat until the pass ends; stop the pass if the claim is lost."""
        while not finished.wait(self.heartbeat_every):
            try:
                with db.connection_context():
                    held = type(self.run).beat(self.run.id, self.run.owner_token)
            except DatabaseError:  # a busy database: the next beat will do
                continue
            except Exception:  # never let the beat die quietly while the pass goes on
                log.warning("import run %s: heartbeat failed", self.run.id, exc_info=True)
                continue
            if not held:
                self.lost = True
                self.stop.set()
                return

    def _execute(self) -> None:
        plan, first = self._plan()
        if not plan.main_done:
            self._run_slices(plan, first)
        if not plan.has_tail:
            plan.add_tail(self.run.stripe_started_at - TAIL_MARGIN)
            self._save(phase="tail", position=plan.to_json())
        if not plan.tail_done:
            self._run_slices(plan)
        self._save(phase="sweep", progress=999)
        sweep(self)

    def _plan(self) -> tuple[Plan, Page | None]:
        """The saved plan of a resumed run, or a fresh one — one slice over everything,
        whose first page (the account's newest) is fetched here to start the run's
        clock and is the first page the writer commits."""
        if self.run.position:
            return Plan.from_json(self.run.position), None
        plan = Plan.whole()
        params, (response, started) = self._first_page(plan)
        self.run.stripe_started_at = started
        self._save(stripe_started_at=started, position=plan.to_json(), phase="slices")
        return plan, self._page(plan, 0, params, response, started)

    def _first_page(self, plan: Plan):
        """The newest page and the second Stripe read it in: the run's start. The sweep
        tells rows this run saw from rows it did not by their stamps, so every stamp an
        earlier read stored must be older than the oldest this run can write
        (sync/import_sweep.py ``seen_since``); wait if needed. Rows stamped by events
        do not count, so a busy account's webhooks cannot hold the run back forever."""
        params = plan.request(0)
        while True:
            first, started = self.list_customers(params)
            newest_stamp = (
                Customer.select(fn.MAX(Customer.stripe_version_at))
                .where(
                    (Customer.business == self.run.business_id)
                    & (Customer.stripe_version_source != int(Source.EVENT))
                )
                .scalar()
            )
            if newest_stamp is None or newest_stamp < seen_since(started):
                return params, (first, started)
            if self.stop.wait(newest_stamp + 1.1 - seen_since(started)):
                raise Stopped

    def _page(self, plan: Plan, index: int, params: dict, response, read_second: int) -> Page:
        """A fetched page (the customers of its slice's range), its slice's cursor
        advanced past it."""
        customers = response.data["data"]
        position = plan.fetched(index, params, customers, response.data["has_more"])
        return Page(index, customers[: position.kept], read_second, position)

    # -- slices: workers fetch, this thread writes ---------------------------------------
    def _run_slices(self, plan: Plan, first: Page | None = None) -> None:
        pages: queue.Queue = queue.Queue(maxsize=2 * self.workers)
        if first is not None:
            pages.put(first)
        threads = [
            threading.Thread(target=self._worker, args=(plan, pages), daemon=True)
            for _ in range(self.workers)
        ]
        for thread in threads:
            thread.start()
        try:
            self._write(plan, pages, threads)
        except BaseException:
            self.stop.set()  # a dying writer takes the workers down with it
            raise
        finally:
            for thread in threads:
                thread.join()
        if self.failure is not None:
            raise self.failure
        if self.stop.is_set():  # stopped from outside: the plan is not finished
            raise Stopped

    def _worker(self, plan: Plan, pages: queue.Queue) -> None:
        try:
            while not self.stop.is_set():
                index = plan.take()
                if index is not None:
                    self._fetch_slice(plan, index, pages)
                elif plan.finished:
                    return
                else:  # nothing to steal yet: a busy slice may become splittable
                    self.stop.wait(IDLE_POLL)
        except Stopped:
            return
        except BaseException as error:  # handed to the writer, which re-raises it
            if self.failure is None:
                self.failure = error
            self.stop.set()

    def _fetch_slice(self, plan: Plan, index: int, pages: queue.Queue) -> None:
        while not self.stop.is_set():
            params = plan.request(index)
            try:
                response, read_second = self.list_customers(params)
            except stripe.InvalidRequestError as error:
                if error.param != "starting_after":
                    raise
                plan.restart_at(index)
                continue
            page = self._page(plan, index, params, response, read_second)
            while not self.stop.is_set():
                try:
                    pages.put(page, timeout=0.25)
                    break
                except queue.Full:
                    continue
            if page.position.done:
                return

    def _write(self, plan: Plan, pages: queue.Queue, threads: list[threading.Thread]) -> None:
        while not self.stop.is_set():
            try:
                page = pages.get(timeout=0.1)
            except queue.Empty:
                if not any(thread.is_alive() for thread in threads) and pages.empty():
                    return
                continue
            self._commit_page(plan, page)
            if self.on_page is not None:
                self.on_page(self.run)

    def _commit_page(self, plan: Plan, page: Page) -> None:
        """Write one page through the one writer, with its resume position and the
        run's counters, in one transaction: a saved plan never claims customers that
        are not written, and a worker that lost the run writes nothing (``_save``
        rolls the page back)."""
        customers, invalid = storable_customers(page.customers)
        run = type(self.run)
        with write_transaction():
            result, counters = self._apply(customers, snapshot_version(page.read_second))
            plan.committed(page.slice, page.position)
            self._save(
                seen=run.seen + len(page.customers),
                created=run.created + result.created,
                updated=run.updated + result.updated,
                pages=run.pages + 1,
                progress=plan.progress(),
                position=plan.to_json(),
                **self._skipped(invalid),
                **counters,
            )

    def _apply(self, customers: list, version: Version) -> tuple[ApplyResult, dict]:
        """Write a page's customers (inside the page's transaction); returns the
        writer's result and more run columns to save with the page. The seam where a
        reconciliation compares before it writes (sync/reconcile.py)."""
        changes = [Change(c, version) for c in customers]
        return apply_changes(self.run.business_id, changes, fence=self.fence), {}

    def swept(self, confirmed: int, result: ApplyResult) -> dict:
        """More run columns to save with a batch of the sweep's confirmations (None
        here; a reconciliation counts them)."""
        return {}

    def _skipped(self, reasons: list[str]) -> dict:
        """The run's fields for customers left out for failing sync/customer_input.py's
        checks (the run goes on; the status says so); the log keeps every reason."""
        for reason in reasons:
            log.warning(
                "import run %s (business %s): skipped a customer: %s",
                self.run.id,
                self.run.business_id,
                reason,
            )
        if not reasons:
            return {}
        run = type(self.run)
        return {"skipped": run.skipped + len(reasons), "skipped_reason": reasons[-1]}

    def _save(self, **fields) -> None:
        """Update the run row (and beat its heartbeat) — inside the caller's transaction
        when there is one, so a page and its resume position commit together — if this
        worker still holds the run; ``ClaimLost`` (rolling the page back) otherwise."""
        if not self.run.save_progress(**fields):
            self.lost = True
            self.stop.set()
            raise ClaimLost
