"""The CLI: `serve` in its own process (with --state), `account`, `seed`, `trigger`."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import stripe

ROOT = Path(__file__).resolve().parents[2]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli(*args):
    done = subprocess.run(
        [sys.executable, "-m", "stripe_sandbox", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
    )
    return done.stdout.strip()


@pytest.fixture
def served(tmp_path, wait_until):
    """Start `serve` as a subprocess; yields (url, restart) where restart keeps --state."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    state = tmp_path / "sandbox.state"
    procs = []

    def start():
        command = ["serve", "--port", str(port), "--state", str(state), "--quiet"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "stripe_sandbox", *command],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        procs.append(proc)
        wait_until(lambda: _up(url), timeout=20)

    def restart():
        procs[-1].terminate()
        procs[-1].wait(timeout=10)
        start()

    start()
    yield url, restart
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def _up(url):
    try:
        return requests.get(url + "/_sandbox/config", timeout=1).status_code < 500
    except requests.ConnectionError:
        return False


def test_account_seed_trigger_and_state_survives_restart(served):
    url, restart = served
    account = _cli("account", "--url", url, "--name", "CLI shop")
    assert account.startswith("acct_")
    assert "seeded 250" in _cli("seed", "--url", url, "--account", account, "--customers", "250")
    fired = json.loads(_cli("trigger", "customer.updated", "--url", url, "--account", account))
    assert fired["customer"].startswith("cus_")

    client = stripe.StripeClient("sk_test_sandbox", base_addresses={"api": url})
    opts = {"stripe_account": account}
    before = [c.id for c in client.v1.customers.list({"limit": 100}, opts).auto_paging_iter()]
    assert len(before) == 251
    restart()
    after = [c.id for c in client.v1.customers.list({"limit": 100}, opts).auto_paging_iter()]
    assert after == before
    types = [e.type for e in client.v1.events.list({}, opts).data]
    assert types == ["customer.updated", "customer.created"]


def test_configure_command(served):
    url, _ = served
    config = json.loads(_cli("configure", "--url", url, "error_rate=0.5", "rate_limit=null"))
    assert config["error_rate"] == 0.5 and config["rate_limit"] is None
