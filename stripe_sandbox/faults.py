"""Run-time fault and realism knobs: latency, per-account rate limit, 5xx, drops.

Latency comes in two places: ``latency_ms`` before a request is served (a slow
network: Stripe reads late, just before it answers) and ``answer_latency_ms`` after it
is served and before the answer leaves, with its ``Date`` header (a slow answer: Stripe
read seconds before the ``Date`` it sends).

All random decisions come from one `random.Random` that `configure(seed=...)` reseeds,
so a test that sends its requests one by one sees exactly the same faults every run.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict, deque
from typing import Any

ROUTE_KINDS = ("list", "retrieve", "write", "oauth")

DEFAULTS: dict[str, Any] = {
    "latency_ms": 0,
    **{f"{kind}_latency_ms": None for kind in ROUTE_KINDS},  # None: use latency_ms
    "answer_latency_ms": 0,
    **{f"{kind}_answer_latency_ms": None for kind in ROUTE_KINDS},  # None: the above
    "rate_limit": None,  # requests per second per account; None disables
    "error_rate": 0.0,  # fraction of API requests answered 500 api_error
    # The same, for one kind of request only (a retrieve failing while lists work).
    **{f"{kind}_error_rate": 0.0 for kind in ROUTE_KINDS},
    "drop_rate": 0.0,  # fraction of API requests whose connection is cut without reply
    "webhook_drop_rate": 0.0,
    "webhook_duplicate_rate": 0.0,
    "webhook_reorder": False,
    "webhook_reorder_window_ms": 500,
    "webhook_delay_ms": 0,
    "webhook_max_attempts": 5,
    "webhook_retry_base_ms": 500,
    "webhook_timeout_s": 10.0,
    # Our webhook endpoint is down for this many seconds from when it is set: every
    # delivery in that window fails like a refused connection and is retried on the
    # usual schedule; tries that run out inside the window are lost (catch-up's case).
    "webhook_endpoint_down_s": 0,
    "oauth_code_ttl_s": 300,
    "seed": None,
}


class Faults:
    """Thread-safe fault configuration plus the decisions drawn from it."""

    def __init__(self, initial: dict[str, Any] | None = None):
        self._lock = threading.Lock()
        self._config = dict(DEFAULTS)
        self._rng = random.Random()
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._down_until = 0.0
        self.configure(**(initial or {}))

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Apply changes (unknown keys raise KeyError) and return the effective config."""
        unknown = set(changes) - set(DEFAULTS)
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        with self._lock:
            self._config.update(changes)
            if "seed" in changes:
                self._rng.seed(changes["seed"])
            if "rate_limit" in changes:
                self._hits.clear()
            if "webhook_endpoint_down_s" in changes:
                self._down_until = time.monotonic() + float(changes["webhook_endpoint_down_s"] or 0)
            return dict(self._config)

    def get(self, name: str) -> Any:
        with self._lock:
            return self._config[name]

    def chance(self, name: str) -> bool:
        """True with the probability configured under `name`."""
        with self._lock:
            rate = float(self._config[name] or 0)
            return rate > 0 and self._rng.random() < rate

    def endpoint_down(self) -> bool:
        """Whether the webhook endpoint is inside its configured outage."""
        with self._lock:
            return time.monotonic() < self._down_until

    def uniform(self, high: float) -> float:
        with self._lock:
            return self._rng.uniform(0, high)

    def latency(self, kind: str) -> None:
        """Sleep in the request thread (the server is threaded, others keep going)."""
        with self._lock:
            ms = self._config.get(f"{kind}_latency_ms")
            if ms is None:
                ms = self._config["latency_ms"]
        if ms:
            time.sleep(ms / 1000)

    def answer_delay(self, kind: str) -> float:
        """Seconds to hold a request's answer after serving it, decided when it
        arrives (a change of configuration meanwhile applies to later requests)."""
        with self._lock:
            ms = self._config.get(f"{kind}_answer_latency_ms")
            if ms is None:
                ms = self._config["answer_latency_ms"]
        return (ms or 0) / 1000

    def allow(self, account: str) -> bool:
        """Sliding one-second window per account; rejected requests don't count."""
        with self._lock:
            limit = self._config["rate_limit"]
            if not limit:
                return True
            now = time.monotonic()
            hits = self._hits[account]
            while hits and now - hits[0] >= 1.0:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            return True
