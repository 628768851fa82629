"""Processes for bench/webhooks.py: the sandbox and gunicorn, each in its own process
(so the load generator measures the server, not itself), and the seeded database."""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import stripe

from bench.webhooks_stream import SECRET
from stripe_sandbox.control_client import ControlClient

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


class Sandbox:
    """``python -m stripe_sandbox serve`` in its own process, with one account."""

    def __enter__(self) -> Sandbox:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "stripe_sandbox", "serve", "--port", "0", "--quiet"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self.proc.stdout.readline().split(" on ")[1].strip()
        self.control = ControlClient(self.url)
        self.account = self.control.create_account(name="Bench roofing")
        self.client = stripe.StripeClient(
            "sk_test_sandbox", base_addresses={"api": self.url, "connect": self.url}
        )
        return self

    def configure(self, **faults) -> None:
        self.control.configure(**faults)

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait()


def sandbox_customers(sandbox: Sandbox, n: int, deleted_share: float, rng) -> list[dict]:
    """Seed ``n`` customers, delete a share of them; returns each one's final state."""
    sandbox.control.seed(sandbox.account, n)
    options = {"stripe_account": sandbox.account}
    listed = sandbox.client.v1.customers.list({"limit": 100}, options).auto_paging_iter()
    customers = [
        {
            "id": c.id,
            "created": c.created,
            "name": c.name,
            "email": c.email,
            "deleted": False,
            "obj": c.to_dict(),
        }
        for c in listed
    ]
    doomed = rng.sample(customers, round(n * deleted_share))
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(lambda c: sandbox.client.v1.customers.delete(c["id"], options=options), doomed)
        )
    for customer in doomed:
        customer["deleted"] = True
    return customers


def prepare_database(path: Path | str, sandbox: Sandbox) -> tuple[Path | str, int]:
    """A migrated database with one owner whose business is linked to the account."""
    from app import create_app
    from models import StripeAccount, User, db

    create_app({"SECRET_KEY": "bench", "DATABASE_URL": str(path), "PUBLIC_URL": "http://x"})
    with db.connection_context():
        user = User.create_owner("bench@example.com", "bench-password", "Bench roofing")
        business = user.businesses.get()
        StripeAccount.create(business=business, account_id=sandbox.account)
    return path, business.id


class Gunicorn:
    def __init__(self, proc: subprocess.Popen, host: tuple[str, int]):
        self.proc, self.host = proc, host

    def workers(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]


@contextlib.contextmanager
def start_gunicorn(db_path: Path | str, sandbox_url: str):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
    env.update(
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=str(db_path),
        STRIPE_SANDBOX_URL=sandbox_url,
        STRIPE_WEBHOOK_SECRET=SECRET,
        BIND=f"127.0.0.1:{port}",
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        LOG_LEVEL="warning",
    )
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "app:create_app()"], cwd=ROOT, env=env
    )
    server = Gunicorn(proc, ("127.0.0.1", port))
    try:
        _wait_ready(server)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def _wait_ready(server: Gunicorn, timeout: float = 30) -> None:
    """Every worker booted and answering; warm-up requests touch no data."""
    deadline = time.monotonic() + timeout
    expected = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count()))
    while True:
        if server.proc.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        try:
            if len(server.workers()) >= expected and _get(server, "/login") == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("gunicorn did not start")
        time.sleep(0.1)  # start-up poll interval
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: _get(server, "/login"), range(64)))


def _get(server: Gunicorn, path: str) -> int:
    conn = http.client.HTTPConnection(*server.host, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def workers_cpu_seconds(server: Gunicorn) -> float:
    """User + system CPU the workers have used so far, from /proc."""
    total = 0.0
    for pid in server.workers():
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def worker_rss_mb(server: Gunicorn) -> float:
    total = 0
    for pid in server.workers():
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{pid}/status").read_text()
            total += int(
                next(ln for ln in status.splitlines() if ln.startswith("VmRSS")).split()[1]
            )
    return total / 1024
