"""Benchmark of the Customers list at a million rows (not a test).

Synced rows carry Stripe's full customer object (the demo's realistic mix), and the
bytes per customer of the file are printed beside the ≤ 2 KB target.

Seeds 1,000,000 customers into the owner's primary business and 1,000,000 into another
business (bench/.data/list_page.sqlite3, reused when present; seeding runs in a child
process so its memory is not counted), then times full-page GETs through the Flask
test client with a logged-in session, in process: server time only, no network.

    .venv/bin/python bench/list_page.py [--requests 200] [--database sqlite|postgres|both]

``--database postgres`` runs the same cases on Postgres (``--postgres-url``, default
the test services' server of ``.ci/services start``, database shingleai_bench_list,
seeded once with COPY and reused).
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

# "-objects": files seeded before rows carried Stripe objects must not be reused.
DATA = Path(__file__).resolve().parent / ".data" / "list_page-objects.sqlite3"
ROWS = int(os.environ.get("BENCH_ROWS", 1_000_000))  # fewer only to try the script out
DEEP = min(2000, ROWS // 100)  # a page deep in the list (page 2,000 at a million rows)
if ROWS != 1_000_000:
    DATA = DATA.with_name(f"list_page-objects-{ROWS}.sqlite3")
EMAIL, PASSWORD = "bench@shingleai.test", "bench-password"
PAGE_TARGET_MS, SEARCH_TARGET_MS = 15, 30
POSTGRES_URL = "postgresql://shingleai@127.0.0.1:54329/shingleai_bench_list"
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


def _postgres_seeded(url: str) -> bool:
    """Whether the bench database holds this version's seed (the owner, full Stripe
    objects, the cross-business probes); otherwise it is (re)created empty."""
    import psycopg
    from psycopg import sql

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            try:
                with psycopg.connect(url) as conn:
                    found = conn.execute(
                        'SELECT EXISTS (SELECT 1 FROM "user" WHERE email = %s)'
                        " AND EXISTS (SELECT 1 FROM customer WHERE stripe_object IS NOT NULL)"
                        " AND EXISTS (SELECT 1 FROM customer WHERE email LIKE %s)",
                        (EMAIL, f"{BUSY_TERM}%"),
                    )
                    if found.fetchone()[0]:
                        return True
            except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
                pass  # an empty database, or one seeded by an older schema
            admin.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return False


def seed_postgres(url: str) -> None:
    """The same 2M rows in Postgres, streamed with COPY (one statement per business, so
    the count triggers run twice), then VACUUM ANALYZE for the planner's statistics."""
    from models.business import Business
    from models.db import db, init_db
    from models.demo import ROW_FIELDS, customer_rows
    from models.migrations import migrate
    from models.user import User

    init_db(url)
    columns = ", ".join(field.column_name for field in ROW_FIELDS)
    with db.connection_context():
        migrate(db)
        user = User.create_owner(EMAIL, PASSWORD, "Bench Primary")
        other = Business.create(owner=user, name="Bench Other", is_primary=False)
        for business_id in (Business.primary_for(user).id, other.id):
            started = time.perf_counter()
            statement = f"COPY customer ({columns}) FROM STDIN"
            with db.atomic(), db.connection().cursor().copy(statement) as copy:
                for row in customer_rows(business_id, ROWS):
                    copy.write_row(row)
            print(f"seeded {ROWS:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
        _seed_probes(Business.primary_for(user).id, other.id)
    with db.connection_context():
        db.connection().autocommit = True
        db.execute_sql("VACUUM ANALYZE")


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
    from models.customer import Customer
    from models.customer_list import change_marker, list_page
    from models.user import User

    with app.app_context():
        business = Business.primary_for(User.by_email(EMAIL))
        cursor = list_page(business.id, page=DEEP - 1).next_cursor
        marker = change_marker(business.id)
        synced = (
            Customer.for_business(business).where(Customer.stripe_object.is_null(False)).first()
        )
    found = [
        (f"first page, {s}", f"/customers?sync={s}", PAGE_TARGET_MS)
        for s in ("all", "synced", "not_synced", "deleted")
    ]
    found += [
        (
            f"page {DEEP:,} (Next link, cursor)",
            f"/customers?page={DEEP}&after={cursor}",
            PAGE_TARGET_MS,
        ),
        (f"page {DEEP:,} (typed URL, OFFSET)", f"/customers?page={DEEP}", PAGE_TARGET_MS),
        (
            f"page {DEEP:,} synced (typed URL)",
            f"/customers?sync=synced&page={DEEP}",
            PAGE_TARGET_MS,
        ),
        ("search 'ovel' (frequent)", "/customers?q=ovel", SEARCH_TARGET_MS),
        ("search 'ada lov' (name)", "/customers?q=ada+lov", SEARCH_TARGET_MS),
        ("search 'ada.lovelace12' (rare)", "/customers?q=ada.lovelace12", SEARCH_TARGET_MS),
        ("search 'ovel' + synced", "/customers?q=ovel&sync=synced", SEARCH_TARGET_MS),
        ("search 'ada lov' + not synced", "/customers?q=ada+lov&sync=not_synced", SEARCH_TARGET_MS),
        ("live poll, nothing changed", f"/customers/changes?since={marker}", PAGE_TARGET_MS),
        ("customer page (list + panel)", f"/customers/{synced.id}", PAGE_TARGET_MS),
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
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--seed-only", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    if args.seed_only == "sqlite":
        seed()
        return
    if args.seed_only == "postgres":
        seed_postgres(args.postgres_url)
        return
    backends = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    for backend in backends:
        run(backend, args)


def run(backend: str, args) -> None:
    """Seed ``backend`` if needed (in a child process), then time every case on it."""
    if backend == "sqlite" and not DATA.exists():
        DATA.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, __file__, "--seed-only", "sqlite"], check=True)
    if backend == "postgres" and not _postgres_seeded(args.postgres_url):
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--seed-only",
                "postgres",
                "--postgres-url",
                args.postgres_url,
            ],
            check=True,
        )

    from app import create_app

    url = str(DATA) if backend == "sqlite" else args.postgres_url
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench-" * 8, "TRUSTED_HOSTS": "localhost"}
    )
    client = logged_in_client(app)
    print(f"\n{backend}: {ROWS:,} + {ROWS:,} rows")
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
    from bench.disk import describe, disk_figures
    from models.db import db

    with app.app_context():
        print(describe(disk_figures(db, DATA)))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the serving process: {rss_mb:.0f} MB ({args.requests} requests a case)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine load average (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
