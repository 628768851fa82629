"""Fixtures: a fresh sandbox per test, a webhook receiver, and a polling helper."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from stripe_sandbox.testing import QuietHandler, SandboxServer
from tests.conftest import wait_until as poll_until


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def account(sandbox: SandboxServer) -> str:
    return sandbox.create_account(name="Contract shop")


@pytest.fixture
def client(sandbox: SandboxServer):
    return sandbox.client()


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    return poll_until


class Receiver:
    """A webhook endpoint that records raw bodies and headers; answers `statuses` in turn."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        self._server = make_server(
            "127.0.0.1", 0, self._app, threaded=True, request_handler=QuietHandler
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}/webhooks"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _app(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        with self._lock:
            self.received.append((request.get_data(), dict(request.headers)))
            status = self.statuses.pop(0) if self.statuses else 200
        return Response("ok", status=status)(environ, start_response)

    def bodies(self) -> list[bytes]:
        with self._lock:
            return [body for body, _ in self.received]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver(sandbox: SandboxServer) -> Iterator[Receiver]:
    rec = Receiver()
    sandbox.add_webhook_endpoint(rec.url, sandbox.webhook_secret)
    yield rec
    rec.close()
