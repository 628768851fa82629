"""Measurements for bench/webhooks.py: the load generator, the visibility probe and
the final-state check."""

from __future__ import annotations

import http.client
import itertools
import statistics
import threading
import time
from collections import Counter
from pathlib import Path

from bench.bench_db import Reader
from bench.webhooks_stream import probe_event

PATH = "/webhooks/stripe"


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
        "elapsed": elapsed,
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
    reader = Reader(str(db_path), read_only=True)
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


def check_final_state(db_path: Path | str, business_id: int, customers: list[dict]) -> dict:
    """Compare every customer row with the sandbox's final state."""
    reader = Reader(str(db_path))
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
