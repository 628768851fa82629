"""Webhook ingestion benchmark: the app under gunicorn (gunicorn.conf.py, production
settings) receiving 20,000 pre-signed Connect events from 32 concurrent connections.

    .venv/bin/python bench/webhooks.py [--events 20000] [--customers 5000] [--profile]
        [--database sqlite|postgres|both]

Events are created / updated / deleted over 5,000 sandbox customers, 10 % are duplicate
deliveries, and the stream is shuffled. A share of customers (``--tie-rate``) get an
update in the same second as their creation, which Stripe's whole-second stamps cannot
order: those are settled by fetching the customer from the sandbox. Run 1 has a fast
sandbox; run 2 answers every API call after 150 ms. Afterwards the database must hold
exactly the sandbox's final state: 0 lost, 0 stale. A benchmark, not a test.
``--database postgres`` runs against a new database on the Postgres server of
``.ci/services start`` (``--postgres-url``); ``both`` runs each, one after the other.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_db import BACKENDS, POSTGRES_ADMIN_URL, fresh_database
from bench.webhooks_procs import (
    Sandbox,
    prepare_database,
    sandbox_customers,
    start_gunicorn,
    worker_rss_mb,
    workers_cpu_seconds,
)
from bench.webhooks_profile import profile_workers
from bench.webhooks_run import check_final_state, run_load
from bench.webhooks_stream import build_stream, sign_stream

TARGETS = {"throughput": 1500.0, "p99": 50.0}


def _row(name: str, value: str, target: str = "") -> str:
    return f"  {name:<34}{value:>14}   {target}"


def report(title: str, load: dict, state: dict, rss: float) -> None:
    lat = load["latency_ms"]
    vis = load["visible_ms"]
    ok = "met" if load["throughput"] >= TARGETS["throughput"] else "MISSED"
    ok99 = "met" if lat["p99"] <= TARGETS["p99"] else "MISSED"
    lines = [
        f"== {title} ==",
        _row("events sent", f"{load['sent']:,}"),
        _row("wall time (s)", f"{load['elapsed']:.1f}"),
        _row("worker CPU (s, both workers)", f"{load['worker_cpu_s']:.1f}"),
        _row("worker CPU per event (ms)", f"{1000 * load['worker_cpu_s'] / load['sent']:.2f}"),
        _row("throughput (events/s)", f"{load['throughput']:,.0f}", f"target >= 1,500  {ok}"),
        _row("latency p50 (ms)", f"{lat['p50']:.1f}"),
        _row("latency p95 (ms)", f"{lat['p95']:.1f}"),
        _row("latency p99 (ms)", f"{lat['p99']:.1f}", f"target <= 50  {ok99}"),
        _row("latency p99.9 / max (ms)", f"{lat['p99.9']:.0f} / {lat['max']:.0f}"),
        _row("answers slower than 150 ms", f"{lat['over150']}"),
        _row("ties settled by a Stripe fetch", f"{state['refetched']}"),
        _row("non-2xx answers", f"{load['errors']}", "target 0"),
        _row("webhook-to-visible p50 (ms)", f"{vis['p50']:.1f}", f"({vis['n']} probes)"),
        _row("webhook-to-visible p99 (ms)", f"{vis['p99']:.1f}"),
        _row("lost customers", f"{state['lost']}", "target 0"),
        _row("stale customers", f"{state['stale']}", "target 0"),
        _row("event outcomes", ", ".join(f"{k} {v}" for k, v in sorted(state["outcomes"].items()))),
        _row("worker RSS (MB, total)", f"{rss:.0f}"),
        _row("machine load average (1 min)", f"{os.getloadavg()[0]:.1f}", "(2 cores, shared)"),
    ]
    print("\n".join(lines), flush=True)


def one_run(args, sandbox: Sandbox, customers, stream, workdir: Path, title: str) -> None:
    name = title.split(":")[0].replace(" ", "")
    url = fresh_database(args.backend, workdir, name, args.postgres_url)
    db_path, business_id = prepare_database(url, sandbox)
    with start_gunicorn(db_path, sandbox.url) as server:
        requests = sign_stream(stream, server.host)
        profiler = profile_workers(server, args.profile, workdir / name)
        cpu = workers_cpu_seconds(server)
        load = run_load(
            server,
            requests,
            concurrency=args.concurrency,
            db_path=db_path,
            business_id=business_id,
            account=sandbox.account,
        )
        load["worker_cpu_s"] = workers_cpu_seconds(server) - cpu
        if profiler:
            profiler.finish()
        rss = worker_rss_mb(server)
    state = check_final_state(db_path, business_id, customers)
    report(title, load, state, rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duplicates", type=float, default=0.10)
    parser.add_argument("--tie-rate", type=float, default=0.05)
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--profile", action="store_true", help="py-spy the workers")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", choices=(*BACKENDS, "both"), default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN_URL)
    args = parser.parse_args()
    for backend in BACKENDS if args.database == "both" else (args.database,):
        args.backend = backend
        print(f"\n### {backend}", flush=True)
        run_all(args)


def run_all(args) -> None:
    """Both runs (fast sandbox, slow sandbox) on ``args.backend``."""
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp, Sandbox() as sandbox:
        workdir = Path(tmp)
        started = time.monotonic()
        customers = sandbox_customers(sandbox, args.customers, deleted_share=0.4, rng=rng)
        stream, ties = build_stream(
            sandbox.account, customers, args.events, args.duplicates, args.tie_rate, rng
        )
        print(
            f"Prepared {len(stream):,} events over {len(customers):,} customers "
            f"({ties} customers with a same-second update) in "
            f"{time.monotonic() - started:.1f}s; concurrency {args.concurrency}.",
            flush=True,
        )
        one_run(args, sandbox, customers, stream, workdir, "run 1: sandbox answers at once")
        sandbox.configure(latency_ms=args.latency_ms)
        title = f"run 2: sandbox answers after {args.latency_ms} ms"
        one_run(args, sandbox, customers, stream, workdir, title)


if __name__ == "__main__":
    main()
