"""HTTP client for `/_sandbox/*`, shared by `SandboxServer` and the CLI.

The control API needs the sandbox's token. `SandboxServer` passes its own; another
process finds it in `STRIPE_SANDBOX_CONTROL_TOKEN`, or in the file `serve` writes for
its port (readable by its user only), so the CLI works against a sandbox started by
the demo or a benchmark without anyone copying the token.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

TOKEN_ENV = "STRIPE_SANDBOX_CONTROL_TOKEN"


def token_file(port: int) -> Path:
    """Where `serve` on ``port`` keeps its control token."""
    return Path(tempfile.gettempdir()) / f"stripe-sandbox-{port}.token"


def write_token_file(port: int, token: str) -> Path:
    path = token_file(port)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(token)
    return path


def find_token(url: str) -> str:
    """The control token for the sandbox at ``url``: the environment, else its file."""
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV]
    path = token_file(urlsplit(url).port or 80)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        raise RuntimeError(
            f"no control token for {url}: set {TOKEN_ENV} (no {path} either)"
        ) from None


class ControlClient:
    """Talks to a running sandbox's control endpoint, from any process."""

    def __init__(self, url: str, token: str | None = None):
        self.url = url.rstrip("/")
        self._http = requests.Session()
        self._http.headers["X-Sandbox-Token"] = token or find_token(self.url)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        resp = self._http.request(method, f"{self.url}/_sandbox{path}", json=body, timeout=120)
        if resp.status_code >= 400:
            raise RuntimeError(f"sandbox {method} {path}: {resp.status_code} {resp.text}")
        return resp.json()

    def configure(self, **faults: Any) -> dict[str, Any]:
        return self.call("POST", "/config", faults)

    def create_account(
        self, *, name: str = "Demo shop", customers: int = 0, connected: bool = True
    ) -> str:
        body = {"name": name, "customers": customers, "connected": connected}
        return self.call("POST", "/accounts", body)["id"]

    def accounts(self) -> list[dict[str, Any]]:
        return self.call("GET", "/accounts")["data"]

    def seed(self, account: str, n: int = 0, *, created: list[int] | None = None) -> None:
        """Add ``n`` fake customers, or one per ``created`` stamp."""
        body: dict[str, Any] = {"n": n}
        if created is not None:
            body["created"] = list(created)
        self.call("POST", f"/accounts/{account}/seed", body)

    def seed_event(
        self, account: str, event_type: str, created: int, customer: str | None = None
    ) -> str:
        """Record an old event (not delivered); returns its id."""
        body = {"type": event_type, "created": created, "customer": customer}
        return self.call("POST", f"/accounts/{account}/events", body)["id"]

    def deauthorize(self, account: str) -> None:
        self.call("POST", f"/accounts/{account}/deauthorize")

    def add_webhook_endpoint(self, url: str, secret: str) -> None:
        self.call("POST", "/webhook_endpoints", {"url": url, "secret": secret})

    def deliveries(self) -> list[dict[str, Any]]:
        return self.call("GET", "/deliveries")["data"]

    def wait_for_deliveries_idle(self, timeout: float = 10) -> None:
        """Poll until no delivery is queued or in flight; TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        while self.call("GET", "/deliveries")["pending"]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"webhook deliveries still pending after {timeout}s")
            time.sleep(0.02)  # poll interval, not a wait for a fixed event

    def authorize_code(self, account: str | None = None, *, customers: int = 0) -> str:
        return self.call("POST", "/oauth/code", {"account": account, "customers": customers})[
            "code"
        ]

    def trigger(self, event_type: str, account: str, **extra: Any) -> dict[str, Any]:
        return self.call("POST", "/trigger", {"type": event_type, "account": account, **extra})
