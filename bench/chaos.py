"""Chaos benchmark: does the list converge with Stripe after deliveries are lost?

    .venv/bin/python bench/chaos.py [--customers 100000] [--changes 10000] [--outage 600]
        [--drops 0.05,0.20] [--duplicates 0.10] [--rate 20] [--threads 8]

The sandbox runs in its own process and the app under gunicorn (production settings)
receives the sandbox's signed webhooks. After an initial import of ``--customers``, each
phase makes ``--changes`` creates, updates and deletes in Stripe (``--rate`` a second)
while the sandbox drops
the phase's share of deliveries, duplicates 10 % and reorders them, and, from halfway,
our endpoint is down for ``--outage`` seconds (deliveries then fail until Stripe gives
up). When the faults end, catch-up (sync/catch_up.py) runs, here in the bench's own
process so its requests can be counted, until no row differs. Printed: the rows differing
from Stripe when the changes end, when the faults end and after each catch-up, the time
to converge, and the requests each catch-up spent, with the targets beside them. The
app's own periodic catch-up is pushed out of the way (SYNC_CATCH_UP_EVERY) so that every
recovery is the bench's; the target is that one catch-up, which the app runs every
SYNC_CATCH_UP_EVERY (300 s by default), suffices. A benchmark, not a test: quick runs
take ``--customers 10000 --changes 1000 --outage 60``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chaos_world import Changes, count_requests, differing_rows
from bench.webhooks_procs import Sandbox, prepare_database, start_gunicorn
from bench.webhooks_stream import SECRET

CATCH_UP_INTERVAL = 300  # the default SYNC_CATCH_UP_EVERY: the convergence target
IMPORT_READ_SHARE = 1.1  # bench/import.py's read target: 1.1 x ceil(N/100) + 1


def _line(name: str, value: str, target: str = "") -> None:
    print(f"  {name:<50}{value:>16}   {target}", flush=True)


def _mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def initial_import(config: dict, business_id: int, counts: dict, customers: int) -> None:
    from sync import importer

    counts.update(on=True, lists=0)
    started = time.monotonic()
    run = importer.run_in_foreground(business_id, config)
    wall = time.monotonic() - started
    counts["on"] = False
    limit = IMPORT_READ_SHARE * math.ceil(customers / 100) + 1
    print(f"== initial import of {customers:,} customers ==", flush=True)
    _line("status", run.status)
    _line("customers/s", f"{customers / wall:,.0f}", "(bench/import.py: >= 6,600 at 150 ms)")
    _line(
        "list requests",
        f"{counts['lists']:,}",
        f"target <= {limit:,.0f}  {_mark(counts['lists'] <= limit)}",
    )


def catch_up_until_converged(args, config, sandbox, db, business_id, counts) -> float:
    """Run catch-up until no row differs (at most 3 times); the seconds it took."""
    from sync.catch_up import catch_up

    spent = 0.0
    for attempt in range(1, 4):
        counts.update(on=True, events=0, customers=0, other=0)
        started = time.monotonic()
        result = catch_up(business_id, config, trigger="periodic")
        took = time.monotonic() - started
        counts["on"] = False
        spent += took
        wrong = differing_rows(sandbox.client, sandbox.account, db, business_id)
        requests = counts["events"] + counts["customers"] + counts["other"]
        per_100 = 100 * requests / result.recovered if result.recovered else float(requests)
        print(f"  catch-up #{attempt}: {took:.1f} s", flush=True)
        _line(
            "  events listed / recovered / already recorded",
            f"{result.listed:,} / {result.recovered:,} / {result.already_recorded:,}",
        )
        _line(
            "  API requests: events list + other (catch-up says)",
            f"{counts['events']:,} + {counts['customers'] + counts['other']:,} ({result.requests})",
        )
        per_listed = 100 * counts["events"] / result.listed if result.listed else 0.0
        _line("  events-list requests per 100 listed events", f"{per_listed:.2f}", "(issue: <= 1)")
        _line(
            "  requests per 100 recovered events",
            f"{per_100:.2f}",
            f"target <= 1  {_mark(per_100 <= 1)}",
        )
        _line("  rows differing from Stripe", f"{wrong:,}", f"target 0  {_mark(wrong == 0)}")
        if wrong == 0:
            return spent
    return float("inf")


def phase(args, drop: float, config, sandbox, db, business_id, counts, changes) -> None:
    print(
        f"\n== {drop:.0%} of deliveries dropped, {args.duplicates:.0%} duplicated, "
        f"reordered, endpoint down {args.outage} s from halfway ==",
        flush=True,
    )
    sandbox.configure(
        webhook_drop_rate=drop,
        webhook_duplicate_rate=args.duplicates,
        webhook_reorder=True,
        webhook_reorder_window_ms=2000,
        seed=args.seed,
    )
    outage_end = []
    logged = len(sandbox.control.deliveries())

    def outage() -> None:
        sandbox.configure(webhook_endpoint_down_s=args.outage)
        outage_end.append(time.monotonic() + args.outage)

    took = changes.run(args.changes, rate=args.rate, threads=args.threads, midway=outage)
    wrong = differing_rows(sandbox.client, sandbox.account, db, business_id)
    _line(
        "changes made in Stripe",
        f"{args.changes:,} in {took:.0f} s",
        f"({changes.failed} raced a delete)",
    )
    _line("rows differing when the changes end", f"{wrong:,}")
    time.sleep(max(0.0, outage_end[0] - time.monotonic()))  # the outage runs its course
    sandbox.configure(webhook_drop_rate=0.0, webhook_duplicate_rate=0.0, webhook_reorder=False)
    started = time.monotonic()
    sandbox.control.wait_for_deliveries_idle(timeout=3600)  # Stripe's retries run out
    settled = time.monotonic() - started
    wrong = differing_rows(sandbox.client, sandbox.account, db, business_id)
    attempts = sandbox.control.deliveries()[logged:]
    outcomes = Counter(a["outcome"] for a in attempts)
    _line(
        "delivery attempts: delivered / failed / dropped",
        f"{outcomes['delivered']:,} / {outcomes['failed'] + outcomes['retrying']:,} / "
        f"{outcomes['dropped']:,}",
    )
    _line(
        "rows differing when the faults end", f"{wrong:,}", f"(retries settled in {settled:.0f} s)"
    )
    converged = settled + catch_up_until_converged(args, config, sandbox, db, business_id, counts)
    _line(
        "time to converge after the faults end",
        f"{converged:.1f} s",
        f"target <= {CATCH_UP_INTERVAL} s (one interval)  {_mark(converged <= CATCH_UP_INTERVAL)}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--outage", type=float, default=600, help="seconds the endpoint is down")
    parser.add_argument("--drops", default="0.05,0.20", help="drop rates, one phase each")
    parser.add_argument("--duplicates", type=float, default=0.10)
    parser.add_argument("--rate", type=float, default=20, help="changes a second")
    parser.add_argument("--threads", type=int, default=8, help="concurrent changes")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    counts = count_requests()
    with tempfile.TemporaryDirectory(prefix="bench-chaos-") as tmp, Sandbox() as sandbox:
        sandbox.control.seed(sandbox.account, args.customers)
        db = str(Path(tmp) / "chaos.sqlite3")
        _, business_id = prepare_database(db, sandbox)
        from app import create_app

        config = {
            "SECRET_KEY": "bench",
            "PUBLIC_URL": "http://127.0.0.1:5000",
            "DATABASE_URL": db,
            "STRIPE_SANDBOX_URL": sandbox.url,
            "STRIPE_RATE_LIMIT": 0,
            "JOBS_IN_PROCESS": "0",
            "IMPORT_RESUME_ON_START": False,
        }
        app = create_app(config)
        with app.app_context():
            initial_import(app.config, business_id, counts, args.customers)
        # Every catch-up below is the bench's own, counted; none of the app's.
        os.environ["SYNC_CATCH_UP_EVERY"] = str(30 * 86400)
        with start_gunicorn(db, sandbox.url) as server:
            host, port = server.host
            sandbox.control.add_webhook_endpoint(f"http://{host}:{port}/webhooks/stripe", SECRET)
            changes = Changes(sandbox.client, sandbox.account, args.seed)
            for drop in (float(d) for d in args.drops.split(",")):
                with app.app_context():
                    phase(args, drop, app.config, sandbox, db, business_id, counts, changes)
        print(f"\nmachine load average (1 min): {os.getloadavg()[0]:.1f} (2 cores, shared)")


if __name__ == "__main__":
    main()
