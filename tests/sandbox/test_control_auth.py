"""The sandbox's `/_sandbox/*` control API answers only loopback clients that send its
control token: without it anyone who reached the port could mint OAuth codes and
revoke access."""

from __future__ import annotations

import os
import stat

import pytest
import requests

from stripe_sandbox.app import create_sandbox_app
from stripe_sandbox.control_client import ControlClient, token_file, write_token_file
from stripe_sandbox.settings import Settings
from stripe_sandbox.testing import SandboxServer


@pytest.fixture(scope="module")
def server():
    with SandboxServer() as running:
        yield running


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/accounts"), ("POST", "/accounts"), ("POST", "/oauth/code"), ("POST", "/config")],
    ids=["list", "create", "mint-code", "faults"],
)
@pytest.mark.parametrize("token", [None, "wrong"], ids=["no-token", "wrong-token"])
def test_without_the_token_the_control_api_refuses(server, method, path, token):
    headers = {"X-Sandbox-Token": token} if token else {}
    response = requests.request(
        method, f"{server.url}/_sandbox{path}", json={}, headers=headers, timeout=10
    )
    assert response.status_code == 401
    assert server.control.accounts() == []


def test_with_the_token_it_works():
    with SandboxServer() as running:
        account = running.create_account(name="Token shop")
        assert account in {a["id"] for a in running.control.accounts()}


def test_a_client_that_is_not_on_this_machine_is_refused_even_with_the_token():
    app = create_sandbox_app(Settings(control_token="t0ken"))
    client = app.test_client()
    headers = {"X-Sandbox-Token": "t0ken"}
    assert client.get("/_sandbox/accounts", headers=headers).status_code == 200
    far = client.get(
        "/_sandbox/accounts", headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert far.status_code == 403


def test_every_sandbox_gets_its_own_random_token():
    first, second = create_sandbox_app(), create_sandbox_app()
    tokens = {app.extensions["stripe_sandbox"].settings.control_token for app in (first, second)}
    assert len(tokens) == 2 and all(len(token) >= 24 for token in tokens)


def test_the_token_file_is_readable_by_its_owner_only(monkeypatch, tmp_path):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.delenv("STRIPE_SANDBOX_CONTROL_TOKEN", raising=False)
    path = write_token_file(45678, "s3cret")
    assert path == token_file(45678)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    client = ControlClient("http://127.0.0.1:45678")
    assert client._http.headers["X-Sandbox-Token"] == "s3cret"
