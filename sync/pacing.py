"""Pacing of Stripe calls: one budget per connected account, shared by everything that
calls Stripe for it (every slice of an import, the sweep, webhook tie fetches) — in this
process, or across processes and hosts through Redis when ``REDIS_URL`` is set
(sync/pacing_redis.py) — which backs off multiplicatively on a 429 and creeps back up
additively (AIMD); and a retry loop with exponential backoff and full jitter for 429s,
5xx and dropped connections.

Stripe never retries a plain 429 for us (facts.md §7), and hammering a rate limiter
only earns more 429s, so the client slows itself down instead.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import stripe

from sync.pacing_redis import RedisBudget

T = TypeVar("T")

LIVE_RATE = 100.0  # Stripe's live-mode limit, requests per second
TEST_RATE = 25.0  # test mode and sandboxes
TARGET_SHARE = 0.9  # stay under the limit: other callers (webhook re-fetches) share it


class Stopped(Exception):
    """The run is stopping (another slice failed); give up waiting."""


class TokenBucket:
    """Grants requests at ``rate`` per second with a small burst, shared by threads.

    Uses virtual scheduling: each grant reserves the next free slot, so waiting threads
    are served in order without a busy loop.
    """

    # How persistent the requests paced by this bucket are (see with_retries).
    attempts = 8
    backoff = 0.25

    def __init__(self, rate: float | None, *, burst: float = 1.0, floor: float = 1.0):
        self.ceiling = rate  # None: unlimited
        self.rate = rate
        self.burst = burst
        self.floor = floor
        self._next = time.monotonic()
        self._last_cut = float("-inf")
        self._lock = threading.Lock()

    def acquire(self, stop: threading.Event | None = None) -> float | None:
        """Wait for this caller's slot; returns the slot (monotonic seconds)."""
        if self.rate is None:
            return None
        wait, slot = self._reserve()
        if wait > 0 and stop is not None and stop.wait(wait):
            raise Stopped
        if wait > 0 and stop is None:
            time.sleep(wait)
        return slot

    def _reserve(self) -> tuple[float, float]:
        """The next free slot: (seconds to wait for it, the slot)."""
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now - self.burst / self.rate)
            self._next = slot + 1.0 / self.rate
        return slot - now, slot

    def throttled(self) -> None:
        """A 429: halve the rate (never below ``floor``), once per second at most —
        the 429s of one overload arrive together and are one signal, not many."""
        if self.rate is None:
            return
        with self._lock:
            now = time.monotonic()
            if now - self._last_cut >= 1.0:
                self.rate = max(self.floor, self.rate / 2)
                self._last_cut = now

    def succeeded(self) -> None:
        """A success: win back one request per second towards the ceiling."""
        if self.rate is not None and self.rate < self.ceiling:
            with self._lock:
                self.rate = min(self.ceiling, self.rate + 1.0)


class RedisBucket(TokenBucket):
    """The same bucket with its state (next slot, current rate, last cut) in Redis, so
    every process and host pacing one account shares one budget."""

    def __init__(
        self, url: str, account: str, rate: float, *, floor: float, namespace: str = "shingleai"
    ):
        super().__init__(rate, floor=floor)
        self.budget = RedisBudget(
            url, account, ceiling=rate, burst=self.burst, floor=floor, namespace=namespace
        )

    def _reserve(self) -> tuple[float, float]:
        wait, slot, self.rate = self.budget.reserve()
        return wait, slot

    def throttled(self) -> None:
        self.rate = self.budget.throttled()

    def succeeded(self) -> None:
        if self.rate < self.ceiling:  # the common case costs no round trip
            self.rate = self.budget.succeeded()


_shared: dict[tuple, TokenBucket] = {}
_shared_lock = threading.Lock()


def bucket_for(config, *, account: str, livemode: bool):
    """The account's budget: 90% of STRIPE_RATE_LIMIT, which defaults to Stripe's
    limit for the key's mode; 0 disables pacing (benchmarks of the raw pipeline). Every
    caller in this process gets the same bucket for the same account; with REDIS_URL,
    every process shares one state in Redis (per JOBS_QUEUE). Requests give up after
    IMPORT_REQUEST_ATTEMPTS tries, backing off from IMPORT_BACKOFF seconds."""
    limit = config.get("STRIPE_RATE_LIMIT")
    if limit is None or limit == "":
        limit = LIVE_RATE if livemode else TEST_RATE
    limit = float(limit)
    attempts = int(config.get("IMPORT_REQUEST_ATTEMPTS", TokenBucket.attempts))
    backoff = float(config.get("IMPORT_BACKOFF", TokenBucket.backoff))
    redis_url = config.get("REDIS_URL") or ""
    namespace = config.get("JOBS_QUEUE") or "shingleai"
    key = (redis_url, namespace, account, limit, attempts, backoff)
    with _shared_lock:
        bucket = _shared.get(key)
        if bucket is None:
            rate = limit * TARGET_SHARE if limit > 0 else None
            if rate is not None and redis_url:
                bucket = RedisBucket(
                    redis_url, account, rate, floor=min(1.0, rate), namespace=namespace
                )
            else:
                bucket = TokenBucket(rate, floor=min(1.0, rate or 1.0))
            bucket.attempts, bucket.backoff = attempts, backoff
            _shared[key] = bucket
    return bucket


class Exhausted(Exception):
    """A transient error outlasted every attempt; the run retries itself later."""


def transient(error: Exception) -> bool:
    """429s, 5xx/409 (APIError) and connection errors are worth another try; a
    revoked account or a bad request never is."""
    return isinstance(error, stripe.RateLimitError | stripe.APIConnectionError | stripe.APIError)


def with_retries(
    call: Callable[[], T],
    bucket: TokenBucket,
    *,
    stop: threading.Event | None = None,
) -> T:
    """Run ``call`` paced by ``bucket``; retry transient errors with exponential
    backoff and full jitter; raise ``Exhausted`` after ``attempts`` tries."""
    attempts, base, cap = bucket.attempts, bucket.backoff, 8.0
    for attempt in range(attempts):
        if stop is not None and stop.is_set():
            raise Stopped
        bucket.acquire(stop)
        try:
            result = call()
        except stripe.StripeError as error:
            if not transient(error):
                raise
            if isinstance(error, stripe.RateLimitError):
                bucket.throttled()
            if attempt == attempts - 1:
                raise Exhausted(_describe(error)) from error
            delay = random.uniform(0, min(cap, base * 2**attempt))
            if stop is not None and stop.wait(delay):
                raise Stopped from error
            if stop is None:
                time.sleep(delay)
            continue
        bucket.succeeded()
        return result
    raise AssertionError("unreachable")


def _describe(error: stripe.StripeError) -> str:
    if isinstance(error, stripe.RateLimitError):
        return "Stripe kept rate-limiting the import"
    if isinstance(error, stripe.APIConnectionError):
        return "Stripe could not be reached"
    return f"Stripe answered with an error ({getattr(error, 'http_status', None) or 'unknown'})"
