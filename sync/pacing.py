"""Pacing for the import: a token bucket shared by every slice of a run, which backs
off multiplicatively on a 429 and creeps back up additively (AIMD), and a retry loop
with exponential backoff and full jitter for 429s, 5xx and dropped connections.

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

    def acquire(self, stop: threading.Event | None = None) -> None:
        if self.rate is None:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now - self.burst / self.rate)
            self._next = slot + 1.0 / self.rate
        wait = slot - now
        if wait > 0 and stop is not None and stop.wait(wait):
            raise Stopped
        if wait > 0 and stop is None:
            time.sleep(wait)

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


def bucket_for(config, *, livemode: bool) -> TokenBucket:
    """The run's bucket: 90% of STRIPE_RATE_LIMIT, which defaults to Stripe's limit for
    the key's mode; 0 disables pacing (benchmarks of the raw pipeline). Requests give
    up after IMPORT_REQUEST_ATTEMPTS tries, backing off from IMPORT_BACKOFF seconds."""
    limit = config.get("STRIPE_RATE_LIMIT")
    if limit is None or limit == "":
        limit = LIVE_RATE if livemode else TEST_RATE
    limit = float(limit)
    bucket = (
        TokenBucket(limit * TARGET_SHARE, floor=min(1.0, limit * TARGET_SHARE))
        if limit > 0
        else TokenBucket(None)
    )
    bucket.attempts = int(config.get("IMPORT_REQUEST_ATTEMPTS", TokenBucket.attempts))
    bucket.backoff = float(config.get("IMPORT_BACKOFF", TokenBucket.backoff))
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
