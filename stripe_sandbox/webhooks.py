"""Webhook delivery: signed POSTs from one background thread, retried with backoff.

Faults (drop, duplicate, reorder, delay) are decided when an event is enqueued; order is
the order of due times, so a reorder jitter or a retry lets later events overtake.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from typing import Any

import requests
from stripe import WebhookSignature

from stripe_sandbox.faults import Faults


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """`t=…,v1=…`: HMAC-SHA256 of "{t}.{payload}", exactly what Stripe sends."""
    return WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=timestamp or int(time.time())
    )


class Dispatcher:
    """Owns the delivery queue and the log of attempts shown on the page and control API."""

    def __init__(self, faults: Faults):
        self.faults = faults
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, dict[str, Any]]] = []
        self._order = itertools.count()
        self._in_flight = 0
        self._stopped = False
        self.attempts: list[dict[str, Any]] = []
        self.status: dict[str, str] = {}  # event id -> latest outcome, for the page
        # event id -> endpoint URL -> latest outcome: what `delivery_success` reports.
        self._by_endpoint: dict[str, dict[str, str]] = {}
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def enqueue(self, event: dict[str, Any], raw: bytes, endpoints: list[dict[str, str]]) -> None:
        """Schedule delivery of one event to every endpoint, applying webhook faults."""
        base = self.faults.get("webhook_delay_ms") / 1000
        window = self.faults.get("webhook_reorder_window_ms") / 1000
        for endpoint in endpoints:
            job = {"event": event["id"], "type": event["type"], "raw": raw, **endpoint}
            if self.faults.chance("webhook_drop_rate"):
                self._log(job, attempt=1, status=None, outcome="dropped")
                continue
            copies = 2 if self.faults.chance("webhook_duplicate_rate") else 1
            for _ in range(copies):
                jitter = self.faults.uniform(window) if self.faults.get("webhook_reorder") else 0
                self._push(time.monotonic() + base + jitter, {**job, "attempt": 1})

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._in_flight

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=5)

    def log(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self.attempts)

    def failed_long_ago(self, event_id: str) -> None:
        """A seeded event is history our endpoint never received: its deliveries
        failed, so `delivery_success=false` lists it, as Stripe would."""
        with self._cond:
            self._by_endpoint[event_id] = {"(history)": "failed"}

    def delivery_success(self, event_id: str) -> bool:
        """Stripe's `delivery_success`: every endpoint acknowledged the event. An event
        still pending, being retried, failed for good or dropped on the way has not;
        one with no endpoint (or from before a restart) counts as delivered."""
        with self._cond:
            outcomes = self._by_endpoint.get(event_id)
            return outcomes is None or all(o == "delivered" for o in outcomes.values())

    def outcomes(self) -> dict[str, str]:
        """Latest delivery outcome per event id (a copy: the worker keeps writing)."""
        with self._cond:
            return dict(self.status)

    def _push(self, due: float, job: dict[str, Any]) -> None:
        with self._cond:
            heapq.heappush(self._queue, (due, next(self._order), job))
            self.status.setdefault(job["event"], "pending")
            self._by_endpoint.setdefault(job["event"], {}).setdefault(job["url"], "pending")
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (
                    not self._queue or self._queue[0][0] > time.monotonic()
                ):
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cond.wait(wait)
                if self._stopped:
                    return
                _, _, job = heapq.heappop(self._queue)
                self._in_flight += 1
            try:
                self._deliver(job)
            finally:
                with self._cond:
                    self._in_flight -= 1

    def _deliver(self, job: dict[str, Any]) -> None:
        if self.faults.endpoint_down():
            self._finish(job, None, "ConnectionRefused (endpoint down)")
        else:
            self._finish(job, *self._post(job))

    def _post(self, job: dict[str, Any]) -> tuple[int | None, str | None]:
        """One signed POST: the status, or the name of the network error."""
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": sign(job["raw"], job["secret"]),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        try:
            resp = self._session.post(
                job["url"],
                data=job["raw"],
                headers=headers,
                timeout=self.faults.get("webhook_timeout_s"),
                allow_redirects=False,  # Stripe counts a 3xx as a failure
            )
            return resp.status_code, None
        except requests.RequestException as exc:
            return None, type(exc).__name__

    def _finish(self, job: dict[str, Any], status: int | None, error: str | None) -> None:
        if status is not None and 200 <= status < 300:
            self._log(job, job["attempt"], status, "delivered")
            return
        if job["attempt"] >= self.faults.get("webhook_max_attempts"):
            self._log(job, job["attempt"], status, "failed", error)
            return
        self._log(job, job["attempt"], status, "retrying", error)
        delay = self.faults.get("webhook_retry_base_ms") / 1000 * 2 ** (job["attempt"] - 1)
        self._push(time.monotonic() + delay, {**job, "attempt": job["attempt"] + 1})

    def _log(
        self,
        job: dict[str, Any],
        attempt: int,
        status: int | None,
        outcome: str,
        error: str | None = None,
    ) -> None:
        with self._cond:
            self.attempts.append(
                {
                    "event": job["event"],
                    "type": job["type"],
                    "url": job["url"],
                    "attempt": attempt,
                    "status": status,
                    "outcome": outcome,
                    "error": error,
                    "at": time.time(),
                }
            )
            self.status[job["event"]] = outcome
            self._by_endpoint.setdefault(job["event"], {})[job["url"]] = outcome
