"""No secret reaches a log line: gunicorn's access log and the app's own loggers mask
OAuth callback codes and states, and API tokens in query strings, Bearer or Basic
auth. (Stripe keys and app secrets are checked over a whole Connect walk in
tests/test_security.py.)"""

from __future__ import annotations

import base64
import logging

import pytest
import requests

from tests.conftest import wait_until
from tests.gunicorn_support import gunicorn
from views.log_redaction import redact

CODE = "ac_Q7ZK93secretCode"
STATE = "Q7ZK93secretState"
TOKEN = "shai_Q7ZK93secretToken"
SECRETS = ("Q7ZK93secret",)


def _requests(url: str) -> None:
    """What an attacker's access log showed: a callback, a token in a query string,
    a token as Bearer and as Basic-auth user."""
    basic = base64.b64encode(f"{TOKEN}:".encode()).decode()
    requests.get(f"{url}/stripe/callback?code={CODE}&state={STATE}&scope=read_write", timeout=10)
    requests.get(f"{url}/api/v1/customers?token={TOKEN}", timeout=10)
    requests.get(f"{url}/api/v1/customers?access_token={TOKEN}", timeout=10)
    requests.get(
        f"{url}/api/v1/customers", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    requests.get(f"{url}/api/v1/customers", headers={"Authorization": f"Basic {basic}"}, timeout=10)


def test_the_gunicorn_access_log_masks_codes_states_and_tokens(tmp_path):
    log = tmp_path / "access.log"
    # The default format plus the Authorization header, which a custom format could log.
    log_format = (
        '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" "%({authorization}i)s"'
    )
    with gunicorn(tmp_path, "--access-logformat", log_format, ACCESS_LOG=str(log)) as url:
        _requests(url)
        wait_until(lambda: log.exists() and log.read_text().count("\n") >= 5)
    lines = log.read_text()
    assert "/stripe/callback?code=[redacted]&state=[redacted]&scope=read_write" in lines
    assert "Bearer [redacted]" in lines and "Basic [redacted]" in lines
    for secret in SECRETS:
        assert secret not in lines


def test_the_apps_request_log_masks_codes_states_and_tokens(live_server, caplog):
    caplog.set_level(logging.DEBUG)
    _requests(live_server.url)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/stripe/callback?code=[redacted]&state=[redacted]" in logged
    for secret in SECRETS:
        assert secret not in logged


def test_an_app_log_call_with_a_secret_argument_is_masked(app, caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("sync.connect").info("calling %s with %s", "Stripe", f"Bearer {TOKEN}")
    assert caplog.records[-1].getMessage() == "calling Stripe with Bearer [redacted]"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "GET /stripe/callback?state=abc&code=ac_1 HTTP/1.1",
            "GET /stripe/callback?state=[redacted]&code=[redacted] HTTP/1.1",
        ),
        ("Authorization: Bearer shai_abc", "Authorization: Bearer [redacted]"),
        ("Authorization: Basic c2hhaV86", "Authorization: Basic [redacted]"),
        ("key sk_live_51Habc in text", "key sk_live_[redacted] in text"),
        ("secret whsec_abc", "secret whsec_[redacted]"),
        (
            "/login?next=/cb?code%3Dac_1%26state%3Ds%26x%3D1",
            "/login?next=/cb?code%3D[redacted]%26state%3D[redacted]%26x%3D1",
        ),
        ("GET /customers?q=ada&page=2 HTTP/1.1", "GET /customers?q=ada&page=2 HTTP/1.1"),
    ],
    ids=["callback", "bearer", "basic", "stripe-key", "webhook-secret", "encoded-next", "harmless"],
)
def test_redact(line, expected):
    assert redact(line) == expected
