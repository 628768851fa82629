"""Throttles for what an attacker would repeat: failed logins (per account and per
client address) and "Retry import" (per business).

Built on the ``limits`` library with a moving window. Counters live in memory, one
store per app, unless ``REDIS_URL`` is set: then every process of a scaled-out
deployment shares them, as a throttle must.
"""

from __future__ import annotations

import time

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

_KEY = "shingleai.throttle"


class Throttle:
    """Named limits (``"5/minute;20/hour"``) checked and counted by key."""

    def __init__(self, storage_uri: str, rules: dict[str, str], namespace: str = ""):
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        # Deployments (and test apps) sharing one Redis keep their counters apart.
        self._namespace = namespace
        self._rules = {name: parse_many(rule) for name, rule in rules.items() if rule}

    def _items(self, name: str) -> list[RateLimitItem]:
        return self._rules.get(name, [])

    def allows(self, name: str, key: str) -> bool:
        """Whether one more ``name`` for ``key`` stays within every window (counts nothing)."""
        return all(
            self._limiter.test(item, self._namespace, name, key) for item in self._items(name)
        )

    def count(self, name: str, key: str) -> None:
        """Record one ``name`` for ``key``."""
        for item in self._items(name):
            self._limiter.hit(item, self._namespace, name, key)

    def retry_after(self, name: str, key: str) -> int:
        """Seconds until ``key`` may try ``name`` again (at least 1)."""
        resets = [
            self._limiter.get_window_stats(item, self._namespace, name, key).reset_time
            for item in self._items(name)
            if not self._limiter.test(item, self._namespace, name, key)
        ]
        return max(1, int(max(resets, default=time.time()) - time.time()) + 1)


def init_app(app: Flask) -> None:
    config = app.config
    app.extensions[_KEY] = Throttle(
        config["REDIS_URL"] or "memory://",
        {
            "login-account": config["LOGIN_LIMIT_PER_ACCOUNT"],
            "login-address": config["LOGIN_LIMIT_PER_ADDRESS"],
            "import-retry": config["IMPORT_RETRY_LIMIT"],
        },
        namespace=config.get("JOBS_QUEUE") or "shingleai",
    )


def throttle() -> Throttle:
    return current_app.extensions[_KEY]
