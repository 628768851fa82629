"""How many 100-customer list pages per second the sandbox serves from its own process.

The import benchmark pages through 100,000 customers, so the sandbox must not be the
bottleneck (target: >= 300 pages/s on a 2-core machine, no latency configured).

    .venv/bin/python -m bench.sandbox_list [--customers 100000] [--walkers 1]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from stripe_sandbox.control_client import ControlClient

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--walkers", type=int, default=1, help="concurrent paging clients")
    args = parser.parse_args()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "stripe_sandbox", "serve", "--port", str(port), "--quiet"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_up(url)
        control = ControlClient(url)
        started = time.monotonic()
        account = control.create_account(customers=args.customers)
        print(f"seeded {args.customers} customers in {time.monotonic() - started:.2f}s")
        counts = [0] * args.walkers
        cpu_before = _cpu_seconds(server.pid)
        started = time.monotonic()
        threads = [
            threading.Thread(target=_walk, args=(url, account, counts, i))
            for i in range(args.walkers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        pages = sum(counts)
        print(f"{pages} pages of 100 in {elapsed:.2f}s: {pages / elapsed:.0f} list pages/s")
        cpu_ms = (_cpu_seconds(server.pid) - cpu_before) / pages * 1000
        # The walkers share the 2 cores with the server; this is the server's own cost.
        print(f"server CPU {cpu_ms:.2f} ms/page: at most {1000 / cpu_ms:.0f} pages/s per core")
    finally:
        server.terminate()
        server.wait(timeout=10)


def _walk(url: str, account: str, counts: list[int], slot: int) -> None:
    """Page newest to oldest like the importer (sequential: each cursor needs the last).

    Plain `http.client` keeps the client's own overhead small, since it shares the two
    cores with the server being measured.
    """
    conn = http.client.HTTPConnection(urlsplit(url).netloc)
    headers = {"Authorization": "Bearer sk_test_sandbox", "Stripe-Account": account}
    query = "limit=100"
    while True:
        conn.request("GET", f"/v1/customers?{query}", headers=headers)
        page = json.loads(conn.getresponse().read())
        counts[slot] += 1
        if not page["has_more"]:
            return
        query = "limit=100&starting_after=" + page["data"][-1]["id"]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_up(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/_sandbox/config", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise TimeoutError("sandbox did not start")


if __name__ == "__main__":
    main()
