"""`--state FILE`: pickle the store when it changes so the demo survives a restart."""

from __future__ import annotations

import os
import pickle
import threading
from pathlib import Path

from stripe_sandbox.store import Store


class StateFile:
    """Loads the file at start, then saves at most once a second and on stop."""

    def __init__(self, path: str, store: Store, interval_s: float = 1.0):
        self.path = Path(path)
        self.store = store
        self.interval_s = interval_s
        self._saved_version = -1
        self._stop = threading.Event()
        if self.path.exists():
            with self.path.open("rb") as fh:
                store.restore(pickle.load(fh))
        self._saved_version = store.version
        self._thread = threading.Thread(target=self._loop, name="sandbox-state", daemon=True)
        self._thread.start()

    def save(self) -> None:
        """Write atomically (temp file + rename): a crash never leaves half a file."""
        with self.store.lock:
            version = self.store.version
            if version == self._saved_version:
                return
            data = pickle.dumps(self.store.snapshot(), protocol=pickle.HIGHEST_PROTOCOL)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, self.path)
        self._saved_version = version

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.save()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.save()
