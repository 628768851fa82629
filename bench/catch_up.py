"""Catch-up benchmark: every webhook dropped while N changes happen in Stripe, then one
catch-up. Prints the events recovered, the list requests spent beside the target
(one per 100 events, + 1), the wall and CPU time, and the rows still differing from
Stripe afterwards (target 0).

    .venv/bin/python bench/catch_up.py [--customers 2000] [--updates 3000] [--latency-ms 150]

The sandbox runs in this process (a thread) with the given list latency; the app's
database is a temporary SQLite file. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app
from models import Business, Customer, StripeAccount, User
from models.catch_up_state import CatchUpState
from stripe_sandbox.testing import SandboxServer
from sync.catch_up import catch_up
from sync.stripe_client import account_options


def _stripe_state(client, account) -> dict[str, tuple]:
    listing = client.v1.customers.list({"limit": 100}, account_options(account))
    return {c.id: (c.name, c.email) for c in listing.auto_paging_iter()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--latency-ms", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, SandboxServer() as sandbox:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
                "STRIPE_SANDBOX_URL": sandbox.url,
                "SYNC_CATCH_UP_EVERY": 0,
            }
        )
        owner = User.create_owner("bench@example.com", "bench password 123", "Bench")
        business = Business.primary_for(owner)
        account = sandbox.create_account(name="Bench shop")
        StripeAccount.create(business=business, account_id=account)
        CatchUpState.record_reconciled(business.id, account, int(time.time()) - 60)
        sandbox.configure(webhook_drop_rate=1.0)
        client, options = sandbox.client(), account_options(account)
        ids = [
            client.v1.customers.create({"name": f"C{i}", "email": f"c{i}@x.test"}, options).id
            for i in range(args.customers)
        ]
        for i in range(args.updates):
            client.v1.customers.update(ids[i % len(ids)], {"name": f"C{i} v{i}"}, options)
        events = args.customers + args.updates
        sandbox.configure(list_latency_ms=args.latency_ms)
        wall, cpu = time.perf_counter(), time.process_time()
        result = catch_up(business.id, app.config, trigger="bench")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        sandbox.configure(list_latency_ms=0)
        truth = _stripe_state(client, account)
        rows = {
            c.stripe_customer_id: (c.name, c.email)
            for c in Customer.for_business(business).where(
                Customer.stripe_customer_id.is_null(False)
            )
        }
        differing = sum(1 for cid, fields in truth.items() if rows.get(cid) != fields)
        target = math.ceil(events / 100) + 1
        met = {True: "OK", False: "MISSED"}
        recovered = f"{result.recovered} (+{result.unchanged} unchanged)"
        print(f"events in Stripe        {events}")
        print(f"listed / recovered      {result.listed} / {recovered}")
        print(f"list requests           {result.requests}   target <= {target} ", end="")
        print(met[result.requests <= target])
        print(f"wall / CPU              {wall:.1f} s / {cpu:.1f} s", end=" ")
        print(f"({args.latency_ms} ms a list request)")
        print(f"rows differing after    {differing}   target 0 {met[differing == 0]}")


if __name__ == "__main__":
    main()
