"""Benchmark of the initial import against the sandbox (a benchmark, not a test).

Each run stores Stripe's full customer objects (tax ids expanded) and prints the bytes
per customer of the resulting SQLite file beside the ≤ 2 KB target.

The sandbox runs in its own process (``python -m stripe_sandbox serve``) so it does not
share the importer's GIL; each import runs in a fresh child process on a fresh SQLite
file, so memory figures are its own. 100,000 customers; every run is verified to have
imported exactly the sandbox's customers (ids, names, emails, dates). Customers are
spread over three years, except in the "narrow" scenario: all created within 60 s (an
account migrated into Stripe in one go), an hour ago, and the "one-second" one: all
created in the same second. Each run prints its list requests
per customer beside the minimum, 0.010 (one request per 100-customer page), and the
importer's CPU-seconds.

    .venv/bin/python bench/import.py [--customers 100000] [--only SCENARIO] [--parallel-only]
        [--database sqlite|postgres]

``--database postgres`` imports into a new database on the Postgres server of
``.ci/services start`` (``--postgres-url``) for each run instead of a SQLite file.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_db import BACKENDS, POSTGRES_ADMIN_URL, fresh_database  # noqa: E402

# Where each run's child imports into (set from the command line).
BACKEND = {"name": "sqlite", "admin_url": POSTGRES_ADMIN_URL}

# name: (sandbox faults, our STRIPE_RATE_LIMIT, target customers/s, target wall s or None,
#        seconds the customers' `created` stamps span)
YEARS = 3 * 365 * 86400
SCENARIOS = {
    "150ms-100rps": ({"list_latency_ms": 150, "rate_limit": 100}, 100, 6_600, 15, YEARS),
    "150ms-25rps": ({"list_latency_ms": 150, "rate_limit": 25}, 25, 2_000, None, YEARS),
    "no-latency-no-limit": ({"list_latency_ms": 0, "rate_limit": None}, 0, 20_000, None, YEARS),
    "narrow-150ms-100rps": ({"list_latency_ms": 150, "rate_limit": 100}, 100, 6_600, 15, 60),
    # All in one second: a list inside one second can only follow its cursor, one page
    # after another, so 100 customers per 150 ms page (667/s) is the most it can do.
    "one-second-150ms-100rps": ({"list_latency_ms": 150, "rate_limit": 100}, 100, 600, None, 1),
}
RSS_TARGET_MB = 100
MIN_REQUESTS_PER_CUSTOMER = 0.010  # one list request per full page of 100
# The read target: 1.1 x ceil(N/100) list requests, plus one for the final pass.
READ_SHARE = 1.1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_sandbox() -> tuple[subprocess.Popen, str]:
    from stripe_sandbox.control_client import ControlClient

    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "stripe_sandbox", "serve", "--port", str(port), "--quiet"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            ControlClient(url).configure()
            return proc, url
        except Exception:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the sandbox did not start") from None
            time.sleep(0.1)


def _expected(url: str, account: str) -> list:
    """The sandbox's customers, read with the official library (faults off)."""
    import stripe

    client = stripe.StripeClient("sk_test_sandbox", base_addresses={"api": url})
    listing = client.v1.customers.list({"limit": 100}, {"stripe_account": account})
    return sorted([c.id, c.name, c.email, c.created] for c in listing.auto_paging_iter())


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of another process (the sandbox), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def _count_list_requests() -> dict:
    """Count the customer list requests this process sends (every HTTP call: the client
    makes no retries of its own), by wrapping the official library's raw_request."""
    import stripe

    counts = {"list": 0}
    original = stripe.StripeClient.raw_request

    def counted(self, method_, url_, **params):
        if method_ == "get" and url_ == "/v1/customers":
            counts["list"] += 1
        return original(self, method_, url_, **params)

    stripe.StripeClient.raw_request = counted
    return counts


def child(args: argparse.Namespace) -> None:
    """One import in this fresh process; prints its figures as JSON."""
    from calendar import timegm

    from app import create_app
    from bench.disk import disk_figures
    from models import Business, Customer, StripeAccount, User
    from models.db import db
    from sync import importer

    config = {
        "SECRET_KEY": "bench",
        "PUBLIC_URL": "http://127.0.0.1:5000",
        "DATABASE_URL": args.db if "://" in args.db else f"sqlite:///{args.db}",
        "STRIPE_SANDBOX_URL": args.url,
        "STRIPE_RATE_LIMIT": args.rate,
        "IMPORT_RESUME_ON_START": False,
    }
    if args.sequential:
        config["IMPORT_WORKERS"] = 1
    requests = _count_list_requests()
    app = create_app(config)
    with app.app_context():
        owner = User.create_owner("bench@example.com", "benchmark-password", "Bench")
        business = Business.primary_for(owner)
        StripeAccount.create(business=business, account_id=args.account)
        commits: list[float] = []
        rss_before = _rss_kb("VmRSS")
        cpu_before = time.process_time()
        start = time.perf_counter()
        commits.append(start)
        run = importer.run_in_foreground(
            business.id, app.config, on_page=lambda _run: commits.append(time.perf_counter())
        )
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu_before
        peak = _rss_kb("VmHWM")
        run = run.refresh()
        rows = sorted(
            [c.stripe_customer_id, c.name, c.email, timegm(c.customer_since.utctimetuple())]
            for c in Customer.for_business(business)
        )
        expected = json.loads(Path(args.expected).read_text())
        # A file's size is SQLite's figure: Postgres has no one file per database.
        disk = None if "://" in args.db else disk_figures(db, args.db)
        gaps = sorted((b - a) * 1000 for a, b in itertools.pairwise(commits))
        q = statistics.quantiles(gaps, n=100) if len(gaps) > 1 else [0.0] * 99
        print(
            json.dumps(
                {
                    "status": run.status,
                    "error": run.last_error,
                    "wall": wall,
                    "cpu": cpu,
                    "count": len(rows),
                    "verified": rows == expected,
                    "pages": run.pages,
                    "requests": requests["list"],
                    "rss_growth_mb": (peak - rss_before) / 1024,
                    "p50": q[49],
                    "p95": q[94],
                    "p99": q[98],
                    "disk": disk,
                }
            )
        )


def parent(args: argparse.Namespace) -> None:
    from bench.disk import describe
    from stripe_sandbox.control_client import ControlClient

    proc, url = _start_sandbox()
    try:
        control = ControlClient(url)
        accounts: dict[int, tuple[str, Path]] = {}
        header = (
            f"{'scenario':<21}{'mode':<11}{'wall s':>7}{'cust/s':>8}{'target':>14}{'met':>4}"
            f"{'pages':>6}{'req/cust (min 0.010, ≤)':>25}{'met':>4}"
            f"{'commit gap p50/p95/p99 ms':>27}{'RSS +MB':>8}{'≤100':>5}{'exact':>6}"
            f"{'CPU s app/sandbox':>19}"
        )
        lines = [header, "-" * len(header)]
        for name, (faults, rate, target_rate, target_wall, spread) in SCENARIOS.items():
            if args.only and name != args.only:
                continue
            if spread not in accounts:
                control.configure(list_latency_ms=0, rate_limit=None)  # list it at full speed
                accounts[spread] = _account(control, url, args.customers, spread)
            account, expected_file = accounts[spread]
            control.configure(**faults)
            modes = ("parallel",) if args.parallel_only else ("parallel", "sequential")
            for mode in modes:
                sandbox_cpu = _cpu_seconds(proc.pid)
                result = _run_child(url, account, rate, expected_file, mode == "sequential")
                result["sandbox_cpu"] = _cpu_seconds(proc.pid) - sandbox_cpu
                lines.append(_row(name, mode, result, args.customers, target_rate, target_wall))
                print(lines[-1], flush=True)
                disk = result["disk"]
                lines.append(f"  {describe(disk)}" if disk else "  on disk: SQLite only")
                print(lines[-1], flush=True)
                if result["status"] != "succeeded":
                    print(f"  run failed: {result['error']}", flush=True)
        control.configure(list_latency_ms=0, rate_limit=None)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"\nload average {load} on {os.cpu_count()} CPUs (other work shares them)")
        print("\n".join(lines))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _account(control, url: str, customers: int, spread: int) -> tuple[str, Path]:
    """A sandbox account of ``customers`` spread over ``spread`` seconds, and a file of
    what an exact import must hold."""
    import random

    if spread == YEARS:  # the sandbox's own realistic seed: three years, with bursts
        account = control.create_account(name="Bench shop", customers=customers)
    else:
        account = control.create_account(name=f"Bench shop, {spread} s")
        newest = int(time.time()) - 3600  # well before the final pass's margin
        rng = random.Random(spread)
        control.seed(
            account, created=[newest - int(rng.random() * spread) for _ in range(customers)]
        )
    expected_file = Path(tempfile.mkdtemp()) / "expected.json"
    expected_file.write_text(json.dumps(_expected(url, account)))
    print(f"sandbox {url}: {customers:,} customers within {spread:,} s in {account}", flush=True)
    return account, expected_file


def _row(name, mode, result, customers, target_rate, target_wall) -> str:
    """One table line; targets and the verdict only on the parallel (shipped) mode."""
    speed = customers / result["wall"]
    memory = "ok" if result["rss_growth_mb"] <= RSS_TARGET_MB else "NO"
    target = met = ""
    per_customer = result["requests"] / max(1, customers)
    read_target = (int(READ_SHARE * -(-customers // 100)) + 1) / max(1, customers)
    reads_met = "yes" if per_customer <= read_target else "NO"
    if mode == "parallel":
        target = f"≥{target_rate:,}/s" + (f" ≤{target_wall}s" if target_wall else "")
        fast = speed >= target_rate and (target_wall is None or result["wall"] <= target_wall)
        met = "yes" if fast else "NO"
    return (
        f"{name:<21}{mode:<11}{result['wall']:>7.1f}{speed:>8,.0f}{target:>14}{met:>4}"
        f"{result['pages']:>6}"
        f"{per_customer:>11.4f} ({result['requests']:,}) ≤{read_target:.4f}{reads_met:>4}"
        f"{result['p50']:>13.1f} /{result['p95']:>6.1f} /{result['p99']:>6.1f}"
        f"{result['rss_growth_mb']:>8.1f}{memory:>5}"
        f"{'yes' if result['verified'] else 'NO':>6}"
        f"{result['cpu']:>11.1f} / {result['sandbox_cpu']:>5.1f}"
    )


def _run_child(url, account, rate, expected_file, sequential) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        database = fresh_database(BACKEND["name"], Path(tmp), "import", BACKEND["admin_url"])
        command = [
            sys.executable,
            __file__,
            "--child",
            "--url", url,
            "--account", account,
            "--rate", str(rate),
            "--expected", str(expected_file),
            "--db", database,
        ]  # fmt: skip
        if sequential:
            command.append("--sequential")
        out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--only", choices=sorted(SCENARIOS))
    parser.add_argument("--parallel-only", action="store_true", help="skip sequential runs")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("--url", "--account", "--expected", "--db"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--sequential", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database", choices=BACKENDS, default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN_URL)
    args = parser.parse_args()
    BACKEND.update(name=args.database, admin_url=args.postgres_url)
    child(args) if args.child else parent(args)


if __name__ == "__main__":
    main()
