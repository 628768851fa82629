"""Browser fixtures for the Stripe areas: a real sandbox whose webhooks reach the
live server. A test module opts in by using ``connect_app_fixture`` as its app."""

from __future__ import annotations

import pytest

from tests.test_connect_support import sandbox_fixture  # noqa: F401  (the `sandbox` fixture)


@pytest.fixture
def sandbox_webhooks(sandbox, live_server):
    """Deliver the sandbox's signed events to the live server's webhook endpoint."""
    sandbox.add_webhook_endpoint(f"{live_server.url}/webhooks/stripe", sandbox.webhook_secret)
    return sandbox
