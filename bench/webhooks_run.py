"""Processes and measurements for bench/webhooks.py: the sandbox and gunicorn as
separate processes, the load generator, the visibility probe and the final check."""

from __future__ import annotations

import contextlib
import http.client
import itertools
import os
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import stripe

from bench.webhooks_stream import SECRET, probe_event
from stripe_sandbox.control_client import ControlClient

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PATH = "/webhooks/stripe"


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


def prepare_database(path: Path, sandbox: Sandbox) -> tuple[Path, int]:
    """A migrated database with one owner whose business is linked to the account."""
    from app import create_app
    from models import StripeAccount, User, db

    create_app({"SECRET_KEY": "bench", "DATABASE_URL": str(path)})
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
def start_gunicorn(db_path: Path, sandbox_url: str):
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


class Profiler:
    """py-spy on every worker for the duration of the load; prints where time goes."""

    def __init__(self, server: Gunicorn, prefix: Path):
        self.files = []
        self.procs = []
        for pid in server.workers():
            out = Path(f"{prefix}-{pid}.txt")
            self.files.append(out)
            self.procs.append(
                subprocess.Popen(
                    [
                        str(BIN / "py-spy"),
                        "record",
                        "-p",
                        str(pid),
                        "-r",
                        "250",
                        "-f",
                        "raw",
                        "-o",
                        str(out),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(1.0)  # py-spy attaches asynchronously; nothing to poll

    def finish(self, top: int = 14) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
        own, inclusive, total = Counter(), Counter(), 0
        for path in self.files:
            for line in path.read_text().splitlines():
                stack, _, count = line.rpartition(" ")
                frames = stack.split(";")
                n = int(count)
                total += n
                own[_short(frames[-1])] += n
                for frame in {_short(f) for f in frames}:
                    inclusive[frame] += n
        print(f"  py-spy: {total} samples of the workers' busy threads (waiting in flock counts)")
        print("  most samples in (self):")
        for frame, n in own.most_common(top):
            print(f"    {100 * n / total:5.1f}%  {frame}")
        print("  inclusive, this project's code:")
        ours = [(f, n) for f, n in inclusive.items() if any(p in f for p in _OURS)]
        for frame, n in sorted(ours, key=lambda x: -x[1])[:top]:
            print(f"    {100 * n / total:5.1f}%  {frame}")


_OURS = ("sync/", "views/", "models/", "app.py")


def _short(frame: str) -> str:
    """``func (path/to/file.py:123)`` -> ``func (file-relative path)``, line dropped."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


def profile_workers(server: Gunicorn, enabled: bool, prefix: Path) -> Profiler | None:
    return Profiler(server, prefix) if enabled else None


def worker_rss_mb(server: Gunicorn) -> float:
    total = 0
    for pid in server.workers():
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{pid}/status").read_text()
            total += int(
                next(ln for ln in status.splitlines() if ln.startswith("VmRSS")).split()[1]
            )
    return total / 1024


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def run_load(server, requests, *, concurrency, db_path, business_id, account) -> dict:
    """Send every request once over ``concurrency`` keep-alive connections while a probe
    measures how soon a new customer appears in the list query."""
    counter = itertools.count()
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = Counter()
    done = threading.Event()

    def sender(slot: int) -> None:
        conn = http.client.HTTPConnection(*server.host)
        mine = latencies[slot]
        while (i := next(counter)) < len(requests):
            body, headers = requests[i]
            start = time.perf_counter()
            conn.request("POST", PATH, body, headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                errors[response.status] += 1
        conn.close()

    visible: list[float] = []
    probe = threading.Thread(
        target=_probe, args=(server, db_path, business_id, account, done, visible)
    )
    threads = [threading.Thread(target=sender, args=(s,)) for s in range(concurrency)]
    probe.start()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    done.set()
    probe.join()
    flat = [x for chunk in latencies for x in chunk]
    return {
        "sent": len(flat),
        "throughput": len(flat) / elapsed,
        "errors": sum(errors.values()),
        "latency_ms": {
            "p50": statistics.median(flat),
            "p95": _percentile(flat, 95),
            "p99": _percentile(flat, 99),
            "p99.9": _percentile(flat, 99.9),
            "max": max(flat),
            "over150": sum(x > 150 for x in flat),
        },
        "visible_ms": {
            "n": len(visible),
            "p50": statistics.median(visible) if visible else float("nan"),
            "p99": _percentile(visible, 99),
        },
    }


LIST_QUERY = (
    "SELECT stripe_customer_id FROM customer WHERE business_id = ?"
    " ORDER BY customer_since DESC, id DESC LIMIT 50"
)


def _probe(server, db_path, business_id, account, done, visible) -> None:
    """Every 50 ms: send a new customer's event and poll the list query (a separate
    read connection, as a list page would be) until the customer is on page one."""
    conn = http.client.HTTPConnection(*server.host)
    reader = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    for serial in itertools.count():
        if done.is_set():
            break
        cid, body, headers = probe_event(account, serial)
        start = time.perf_counter()
        conn.request("POST", PATH, body, headers)
        while not any(row[0] == cid for row in reader.execute(LIST_QUERY, (business_id,))):
            if time.perf_counter() - start > 10:
                break
            time.sleep(0.0005)  # polling interval of the reader
        else:
            visible.append((time.perf_counter() - start) * 1000)
        conn.getresponse().read()
        done.wait(0.05)
    reader.close()
    conn.close()


def check_final_state(db_path: Path, business_id: int, customers: list[dict]) -> dict:
    """Compare every customer row with the sandbox's final state."""
    reader = sqlite3.connect(db_path)
    rows = {
        sid: (name, email, bool(deleted))
        for sid, name, email, deleted in reader.execute(
            "SELECT stripe_customer_id, name, email, deleted_in_stripe_at IS NOT NULL"
            " FROM customer WHERE business_id = ?",
            (business_id,),
        )
    }
    outcomes = dict(reader.execute("SELECT outcome, COUNT(*) FROM webhook_event GROUP BY 1"))
    refetched = reader.execute("SELECT COUNT(*) FROM webhook_event WHERE refetched").fetchone()[0]
    reader.close()
    lost = stale = 0
    for c in customers:
        expected = (c["name"] or None, c["email"] or None, c["deleted"])
        if c["id"] not in rows:
            lost += 1
        elif rows[c["id"]] != expected:
            stale += 1
    return {"lost": lost, "stale": stale, "outcomes": outcomes, "refetched": refetched}
