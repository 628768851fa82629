"""Request bodies are capped on every route (64 KB; the Stripe webhook 1 MB), and a
refused body leaves the client's connection usable: under gunicorn the kept-alive
connection serves the next request; werkzeug's server says ``Connection: close``."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from models.api_token import ApiToken
from tests.gunicorn_support import gunicorn
from tests.security_support import RULES, _path, database_snapshot, world_fixture  # noqa: F401
from tests.webhooks_support import deliver, make_event, stripe_customer

BIG = "x" * (100 * 1024)


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(r, id=f"{r.endpoint}:{r.rule}")
        for r in RULES
        if r.methods & {"POST", "PATCH"} and r.endpoint != "webhooks.receive"
    ],
)
def test_every_write_refuses_a_100_kb_body(app, client, logged_in, owner, world, rule):
    secret = ApiToken.issue(owner, world["own"].business, "t", "read_write")[1]
    headers = {"X-CSRFToken": logged_in, "Authorization": f"Bearer {secret}"}
    path = _path(app, rule, world["own"].ids)
    before = database_snapshot()
    for method in sorted(rule.methods & {"POST", "PATCH"}):
        form = client.open(
            path, method=method, data={"name": BIG, "email": "a@b.co"}, headers=headers
        )
        assert form.status_code == 413, (method, path)
    assert database_snapshot() == before


def test_the_webhook_takes_up_to_1_mb(client, business):
    event = make_event("customer.created", stripe_customer("cus_big", name="n" * 200_000))
    assert deliver(client, event).status_code != 413
    huge = make_event("customer.created", stripe_customer("cus_huge", name="n" * 1_100_000))
    assert deliver(client, huge).status_code == 413


def _exchange(url: str, secret: str, size: int) -> tuple[int, str | None, int]:
    """A too-large API body, then a second request on the same connection (or a new
    one when the server said it closes): the statuses and the first Connection header."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request(
        "POST",
        "/api/v1/customers",
        body=b"{" + b" " * size + b"}",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {secret}"},
    )
    first = connection.getresponse()
    first.read()
    said = first.getheader("Connection")
    if said == "close":
        connection.close()
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("GET", "/api/v1/openapi.json")
    second = connection.getresponse()
    second.read()
    connection.close()
    return first.status, said, second.status


@pytest.mark.parametrize("size", [100_000, 3_000_000], ids=["100KB", "3MB"])
def test_a_413_under_gunicorn_keeps_the_connection_usable(tmp_path, size):
    with gunicorn(tmp_path) as url:
        from models import Business, User

        owner = User.by_email("owner@example.com")
        secret = ApiToken.issue(owner, Business.primary_for(owner), "t", "read_write")[1]
        status, said, after = _exchange(url, secret, size)
    assert status == 413 and after == 200, (said, after)


def test_a_413_from_the_development_server_closes_cleanly(live_server, owner, business):
    secret = ApiToken.issue(owner, business, "t", "read_write")[1]
    assert _exchange(live_server.url, secret, 100_000) == (413, "close", 200)
