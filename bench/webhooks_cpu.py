"""CPU per webhook event in one process, without a server or a load generator: the
figure to compare two versions of the webhook path on a shared machine, where
bench/webhooks.py's throughput moves with whatever else runs.

    .venv/bin/python bench/webhooks_cpu.py [--events 5000] [--customers 1250] [--profile]

The same stream as bench/webhooks.py (creations, updates, deletions, 10 % duplicates,
shuffled; no same-second ties, which would wait for Stripe) goes through the Flask app's
webhook endpoint by its test client, one event after another, on a fresh SQLite file.
Prints this thread's CPU per event (p50 / p95 of each event, and the total) and, with
``--profile``, the functions that cost most (cProfile, cumulative).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.webhooks_procs import SECRET, Sandbox, prepare_database, sandbox_customers
from bench.webhooks_stream import build_stream, sign_stream


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--customers", type=int, default=1_250)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-cpu-") as tmp, Sandbox() as sandbox:
        customers = sandbox_customers(sandbox, args.customers, deleted_share=0.4, rng=rng)
        stream, _ = build_stream(sandbox.account, customers, args.events, 0.10, 0.0, rng)
        path, _ = prepare_database(Path(tmp) / "bench.db", sandbox)
        for key in [k for k in os.environ if k.startswith("STRIPE_")]:
            del os.environ[key]
        from app import create_app

        app = create_app(
            {
                "SECRET_KEY": "bench",
                "DATABASE_URL": str(path),
                "PUBLIC_URL": "http://localhost",
                "STRIPE_SANDBOX_URL": sandbox.url,
                "STRIPE_WEBHOOK_SECRET": SECRET,
            }
        )
        client = app.test_client()
        requests = sign_stream(stream, ("localhost", 80))
        costs = []
        profiler = cProfile.Profile() if args.profile else None
        for body, headers in requests:
            started = time.thread_time()
            if profiler:
                profiler.enable()
            answer = client.post("/webhooks/stripe", data=body, headers=headers)
            if profiler:
                profiler.disable()
            costs.append(time.thread_time() - started)
            if answer.status_code != 200:
                raise SystemExit(f"answered {answer.status_code}: {answer.get_data(True)[:200]}")
    costs.sort()
    print(f"  events                      {len(costs):>10,}")
    print(f"  CPU per event, mean (ms)    {1000 * statistics.fmean(costs):>10.3f}")
    print(f"  CPU per event, p50 (ms)     {1000 * costs[len(costs) // 2]:>10.3f}")
    print(f"  CPU per event, p95 (ms)     {1000 * costs[int(len(costs) * 0.95)]:>10.3f}")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
