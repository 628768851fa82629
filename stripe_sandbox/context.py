"""The per-app bundle of sandbox parts, stored in `app.extensions` for the blueprints."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from stripe_sandbox.faults import Faults
from stripe_sandbox.persistence import StateFile
from stripe_sandbox.settings import Settings
from stripe_sandbox.store import Store
from stripe_sandbox.webhooks import Dispatcher

KEY = "stripe_sandbox"


@dataclass
class Sandbox:
    settings: Settings
    faults: Faults
    store: Store
    dispatcher: Dispatcher
    state_file: StateFile | None = None
    # (account, Idempotency-Key) -> (params, status, body): replays a retried POST.
    idempotency: dict[tuple[str, str], tuple[Any, int, bytes]] = field(default_factory=dict)
    idempotency_lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        """Stop background threads and write the state file one last time."""
        self.dispatcher.stop()
        if self.state_file is not None:
            self.state_file.stop()


def sandbox() -> Sandbox:
    return current_app.extensions[KEY]
