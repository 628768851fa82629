"""`SandboxServer`: the sandbox on a free local port in a background thread.

Tests, the demo and other engineers' fixtures use it to get a real HTTP Stripe stand-in
that the official library reaches through `base_addresses`, never through patches.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

import stripe
from werkzeug.serving import WSGIRequestHandler, make_server

from stripe_sandbox.app import create_sandbox_app
from stripe_sandbox.context import KEY
from stripe_sandbox.control_client import ControlClient
from stripe_sandbox.settings import Settings


class QuietHandler(WSGIRequestHandler):
    """No per-request log lines: tests and benchmarks make thousands of requests."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class SandboxServer:
    """Runs the sandbox WSGI app on 127.0.0.1 (threaded werkzeug server)."""

    def __init__(
        self,
        *,
        api_key: str = "sk_test_sandbox",
        client_id: str = "ca_sandbox",
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_sandbox",
        port: int = 0,
        **faults: Any,
    ):
        self.api_key = api_key
        self.client_id = client_id
        self.webhook_secret = webhook_secret
        self.url = ""
        self._port = port
        self._settings = Settings(
            api_key=api_key,
            client_id=client_id,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            control_token=secrets.token_urlsafe(24),
            faults=faults,
        )
        self._server = None
        self._thread: threading.Thread | None = None
        self._control: ControlClient | None = None

    def start(self) -> SandboxServer:
        self._app = create_sandbox_app(self._settings)
        self._server = make_server(
            "127.0.0.1", self._port, self._app, threaded=True, request_handler=QuietHandler
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="sandbox-http", daemon=True
        )
        self._thread.start()
        self._control = ControlClient(self.url, self._settings.control_token)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._app.extensions[KEY].close()
        self._server = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, **kwargs: Any) -> stripe.StripeClient:
        """A `StripeClient` pointed at this sandbox for both the API and Connect OAuth."""
        kwargs.setdefault("client_id", self.client_id)
        return stripe.StripeClient(
            self.api_key, base_addresses={"api": self.url, "connect": self.url}, **kwargs
        )

    @property
    def control_token(self) -> str:
        """The token its control API asks for (a test app passes it on)."""
        return self._settings.control_token

    @property
    def control(self) -> ControlClient:
        if self._control is None:
            raise RuntimeError("SandboxServer.start() first")
        return self._control

    def configure(self, **faults: Any) -> dict[str, Any]:
        return self.control.configure(**faults)

    def create_account(
        self, *, name: str = "Demo shop", customers: int = 0, connected: bool = True
    ) -> str:
        return self.control.create_account(name=name, customers=customers, connected=connected)

    def seed(self, account: str, n: int = 0, *, created: list[int] | None = None) -> None:
        self.control.seed(account, n, created=created)

    def seed_event(
        self, account: str, event_type: str, created: int, customer: str | None = None
    ) -> str:
        return self.control.seed_event(account, event_type, created, customer)

    def deauthorize(self, account: str) -> None:
        self.control.deauthorize(account)

    def add_webhook_endpoint(self, url: str, secret: str) -> None:
        self.control.add_webhook_endpoint(url, secret)

    def deliveries(self) -> list[dict[str, Any]]:
        return self.control.deliveries()

    def wait_for_deliveries_idle(self, timeout: float = 10) -> None:
        self.control.wait_for_deliveries_idle(timeout)

    def authorize_code(self, account: str | None = None, *, customers: int = 0) -> str:
        return self.control.authorize_code(account, customers=customers)
