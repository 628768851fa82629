"""Password hashing that cannot starve the server.

A password hash is deliberately slow (tens of milliseconds of CPU). Unbounded,
sixteen concurrent login attempts slowed every other owner's pages twentyfold. So
at most ``concurrency`` hashes run at once in a process; a request that finds every
slot busy is refused at once (``HashingBusy``, a 429 to the client) instead of
queueing a thread behind them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from werkzeug.security import check_password_hash, generate_password_hash

# A slot freed within this wait is taken: it absorbs two logins arriving together
# without holding a request thread for long.
WAIT_SECONDS = 0.05
_slots = threading.BoundedSemaphore(2)


class HashingBusy(RuntimeError):
    """Every hashing slot is taken: try again in a moment."""


def configure(concurrency: int) -> None:
    """Set how many hashes may run at once in this process."""
    global _slots
    _slots = threading.BoundedSemaphore(max(1, int(concurrency)))


@contextlib.contextmanager
def _slot() -> Iterator[None]:
    slots = _slots
    if not slots.acquire(timeout=WAIT_SECONDS):
        raise HashingBusy("Too many sign-ins at once: try again in a moment.")
    try:
        yield
    finally:
        slots.release()


def hash_password(password: str) -> str:
    with _slot():
        return generate_password_hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    with _slot():
        return check_password_hash(password_hash, password)
