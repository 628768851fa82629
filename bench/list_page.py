"""Benchmark of the Customers list at a million rows (not a test).

Seeds 1,000,000 customers into the owner's primary business and 1,000,000 into another
business (bench/.data/list_page.sqlite3, reused when present; seeding runs in a child
process so its memory is not counted), then times full-page GETs through the Flask
test client with a logged-in session, in process: server time only, no network.

    .venv/bin/python bench/list_page.py [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DATA = Path(__file__).resolve().parent / ".data" / "list_page.sqlite3"
ROWS = 1_000_000
EMAIL, PASSWORD = "bench@shingleai.test", "bench-password"
PAGE_TARGET_MS, SEARCH_TARGET_MS = 15, 30
# Cross-business probes: the other business holds PROBES rows with the first term and
# none with the second; the primary holds 3 of each. Both searches must cost the same.
PROBES, BUSY_TERM, IDLE_TERM = 50_000, "qzxbusy", "qzxidle"


def seed() -> None:
    """Create the data file: owner, primary business, other business, 2M rows."""
    from models.business import Business
    from models.db import db, init_db
    from models.demo import seed_customers
    from models.migrations import migrate
    from models.user import User

    partial = DATA.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    init_db(str(partial))
    with db.connection_context():
        migrate(db)
        user = User.create_owner(EMAIL, PASSWORD, "Bench Primary")
        other = Business.create(owner=user, name="Bench Other", is_primary=False)
        for business_id in (Business.primary_for(user).id, other.id):
            started = time.perf_counter()
            seed_customers(business_id, ROWS)
            print(f"seeded {ROWS:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
        _seed_probes(Business.primary_for(user).id, other.id)
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    partial.rename(DATA)


def _seed_probes(primary_id: int, other_id: int) -> None:
    from models.customer import Customer
    from models.db import db

    def rows(business_id: int, term: str, n: int) -> list[dict]:
        return [
            {
                "business": business_id,
                "name": f"Probe {term} {i}",
                "email": f"{term}{i}@probe.test",
                "customer_since": 1_600_000_000 + i,
            }
            for i in range(n)
        ]

    with db.atomic():
        for batch in (
            rows(primary_id, BUSY_TERM, 3),
            rows(primary_id, IDLE_TERM, 3),
            *(rows(other_id, BUSY_TERM, PROBES)[i : i + 1000] for i in range(0, PROBES, 1000)),
        ):
            Customer.insert_many(batch).execute()


def logged_in_client(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, "bench login failed"
    return client


def api_token(app) -> str:
    from models.api_token import ApiToken
    from models.business import Business
    from models.user import User

    with app.app_context():
        user = User.by_email(EMAIL)
        return ApiToken.issue(user, Business.primary_for(user), "bench", "read_only")[1]


def cases(app) -> list[tuple[str, str, int]]:
    """(label, URL, target ms). Page 2,000 is reached the way the Next link reaches it
    (with the cursor of page 1,999's last row) and, separately, as a typed URL."""
    from models.business import Business
    from models.customer_list import change_marker, list_page
    from models.user import User

    with app.app_context():
        business = Business.primary_for(User.by_email(EMAIL))
        cursor = list_page(business.id, page=1999).next_cursor
        marker = change_marker(business.id)
    found = [
        (f"first page, {s}", f"/customers?sync={s}", PAGE_TARGET_MS)
        for s in ("all", "synced", "not_synced", "deleted")
    ]
    found += [
        ("page 2,000 (Next link, cursor)", f"/customers?page=2000&after={cursor}", PAGE_TARGET_MS),
        ("page 2,000 (typed URL, OFFSET)", "/customers?page=2000", PAGE_TARGET_MS),
        ("page 2,000 synced (typed URL)", "/customers?sync=synced&page=2000", PAGE_TARGET_MS),
        ("search 'ovel' (frequent)", "/customers?q=ovel", SEARCH_TARGET_MS),
        ("search 'ada lov' (name)", "/customers?q=ada+lov", SEARCH_TARGET_MS),
        ("search 'ada.lovelace12' (rare)", "/customers?q=ada.lovelace12", SEARCH_TARGET_MS),
        ("search 'ovel' + synced", "/customers?q=ovel&sync=synced", SEARCH_TARGET_MS),
        ("search 'ada lov' + not synced", "/customers?q=ada+lov&sync=not_synced", SEARCH_TARGET_MS),
        ("live poll, nothing changed", f"/customers/changes?since={marker}", PAGE_TARGET_MS),
        # Short terms: frequent ones walk the list, rare ones read the bigram index.
        ("search 'a' (1 char, frequent)", "/customers?q=a", SEARCH_TARGET_MS),
        ("search 'an' (2 chars, frequent)", "/customers?q=an", SEARCH_TARGET_MS),
        ("search 'qz' (2 chars, rare here)", "/customers?q=qz", SEARCH_TARGET_MS),
        ("search 'ø' (1 char, absent)", "/customers?q=%C3%B8", SEARCH_TARGET_MS),
        # Timing must not tell how many of the other business's rows match.
        (f"search '{IDLE_TERM}' (other: 0)", f"/customers?q={IDLE_TERM}", SEARCH_TARGET_MS),
        (
            f"search '{BUSY_TERM}' (other: {PROBES:,})",
            f"/customers?q={BUSY_TERM}",
            SEARCH_TARGET_MS,
        ),
        (
            "API search 'ada.lovelace12' (rare)",
            "/api/v1/customers?q=ada.lovelace12",
            SEARCH_TARGET_MS,
        ),
        ("API search 'ovel' (frequent)", "/api/v1/customers?q=ovel", SEARCH_TARGET_MS),
        ("API search 'qz' (2 chars)", "/api/v1/customers?q=qz", SEARCH_TARGET_MS),
    ]
    return found


def measure(client, url: str, n: int, headers: dict) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each request, sorted. On a machine shared with
    other work, wall time includes waiting for a core; the request's own CPU time (the
    thread's, SQLite included: it runs in this thread) is what it costs."""
    wall, cpu = [], []
    for _ in range(n):
        started, started_cpu = time.perf_counter(), time.thread_time()
        response = client.get(url, headers=headers if url.startswith("/api/") else {})
        cpu.append((time.thread_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
        assert response.status_code in (200, 204), (url, response.status_code)
        assert "took too long" not in response.get_data(as_text=True), url
    return sorted(wall), sorted(cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed-only", action="store_true")
    args = parser.parse_args()
    if args.seed_only:
        seed()
        return
    if not DATA.exists():
        DATA.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, __file__, "--seed-only"], check=True)

    from app import create_app

    app = create_app({"DATABASE_URL": str(DATA), "SECRET_KEY": "bench-" * 8})
    client = logged_in_client(app)
    headers = {"Authorization": f"Bearer {api_token(app)}"}
    print(
        f"{'case':38} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'cpu p50':>8} {'cpu p95':>8}  target p95 (on cpu)"
    )
    for label, url, target in cases(app):
        measure(client, url, 5, headers)  # warm the page cache and the template
        wall, cpu = measure(client, url, args.requests, headers)
        p95, p99 = wall[int(len(wall) * 0.95) - 1], wall[int(len(wall) * 0.99) - 1]
        cpu95 = cpu[int(len(cpu) * 0.95) - 1]
        verdict = "ok" if min(p95, cpu95) <= target else "MISSED"
        print(
            f"{label:38} {statistics.median(wall):7.2f} {p95:7.2f} {p99:7.2f} "
            f"{statistics.median(cpu):8.2f} {cpu95:8.2f}  <= {target} ms {verdict}",
            flush=True,
        )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the serving process: {rss_mb:.0f} MB ({args.requests} requests a case)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine load average (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
