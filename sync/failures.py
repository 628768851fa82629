"""Records webhook events that could not be applied, from a background thread.

When the database itself is what failed (locked past the busy timeout), the request
cannot record the failure either; it answers 503 at once and this thread writes the
record as soon as the database accepts writes again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from peewee import DatabaseError

from models.db import db, write_transaction

log = logging.getLogger(__name__)
GIVE_UP_AFTER = 300.0  # seconds; Stripe's retry brings the event back anyway


class FailureRecorder:
    """A queue of (event, payload, error) drained by one lazily started daemon thread
    (started after a fork, so each gunicorn worker gets its own)."""

    def __init__(self, write: Callable[[dict, bytes, str], None]):
        self._write = write
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def put(self, event: dict, payload: bytes, error: str) -> None:
        self._queue.put((event, payload, error, time.monotonic() + GIVE_UP_AFTER))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="webhook-failures", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            event, payload, error, give_up = self._queue.get()
            delay = 0.05
            while True:
                try:
                    with db.connection_context(), write_transaction():
                        self._write(event, payload, error)
                    break
                except DatabaseError as exc:
                    if time.monotonic() > give_up:
                        log.warning("gave up recording failed event %s: %s", event["id"], exc)
                        break
                    # Waiting for another writer to release the lock; nothing to poll.
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)
