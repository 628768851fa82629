"""Webhook writers take turns through an OS file lock before ``BEGIN IMMEDIATE``.

SQLite's busy handler waits for a held write lock by sleeping and retrying (1, 2, 5,
10, … ms), so many concurrent writers from several gunicorn workers queue badly: most
of a request's time goes to sleeping past the moment the lock was freed. A blocking
``flock`` on a file beside the database hands the turn over as soon as the holder
commits. Threads of one process first queue on a ``threading.Lock``, because ``flock``
is held per open file, not per thread. Other writers (the import, edits) are unchanged:
they still meet the webhook writers at SQLite's lock with its busy timeout.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator

from models.db import db


class WriteTurns:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[tuple[int, str], int] = {}

    def _fd(self) -> int | None:
        path = db.database
        if not path or path == ":memory:":
            return None
        key = (os.getpid(), path)  # a forked worker opens its own file
        if key not in self._files:
            self._files[key] = os.open(f"{path}-writers.lock", os.O_RDWR | os.O_CREAT, 0o600)
        return self._files[key]

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the writers' turn for one write transaction."""
        with self._lock:
            fd = self._fd()
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)


turns = WriteTurns()
