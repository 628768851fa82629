"""What keeps the Customers list fast at a million rows per business.

- One partial index per Sync filter, in list order, whose WHERE matches
  ``Customer.sync_condition`` so SQLite picks it: any page of any filter is a walk
  over one narrow index (the "all" filter uses ``customer_list`` from 0001).
- ``customer_stats``: per-business row counts by filter, plus ``changes``, a counter
  bumped by every insert, update and delete. Triggers keep it exact, so the list's
  "of 12,345" and the live list's "did anything change?" poll are one-row reads. (No
  foreign key: a business's cascade delete would race its own customers' triggers.)
- ``customer_fts``: an FTS5 trigram index over name and email (case-insensitive
  substring search for queries of three or more characters), kept in step by triggers.

On Postgres (``POSTGRES_STATEMENTS``) the same partial indexes and counts, with
statement-level plpgsql triggers over transition tables (one stats write per
statement, after the statement's row locks, so concurrent batches cannot deadlock on
the stats row), and a pg_trgm GIN index over name and email in place of FTS5 (see
models/customer_search_postgres.py, whose ``SEARCH_TEXT`` is the indexed expression).
"""

FILTERS = {
    "synced": "{t}stripe_customer_id IS NOT NULL AND {t}deleted_in_stripe_at IS NULL",
    "not_synced": "{t}stripe_customer_id IS NULL",
    "deleted": "{t}deleted_in_stripe_at IS NOT NULL",
}


def _count(row: str, sign: str) -> str:
    """Add (sign "") or remove (sign "-") one row (NEW or OLD) from its business's stats."""
    flags = ", ".join(f"{sign}({term.format(t=row + '.')})" for term in FILTERS.values())
    return f"""INSERT INTO customer_stats (business_id, total, synced, not_synced, deleted, changes)
        VALUES ({row}.business_id, {sign}1, {flags}, 1)
        ON CONFLICT (business_id) DO UPDATE SET
          total = total + excluded.total, synced = synced + excluded.synced,
          not_synced = not_synced + excluded.not_synced, deleted = deleted + excluded.deleted,
          changes = changes + 1;"""


def _fts(row: str, delete: bool) -> str:
    command = "'delete', " if delete else ""
    columns = "customer_fts, rowid, name, email" if delete else "rowid, name, email"
    return (
        f"INSERT INTO customer_fts ({columns}) VALUES ({command}{row}.id, {row}.name, {row}.email);"
    )


STATEMENTS = [
    *(
        f"CREATE INDEX customer_list_{name} ON customer"
        f" (business_id, customer_since DESC, id DESC) WHERE {term.format(t='')}"
        for name, term in FILTERS.items()
    ),
    """CREATE TABLE customer_stats (
        business_id INTEGER PRIMARY KEY,
        total INTEGER NOT NULL DEFAULT 0,
        synced INTEGER NOT NULL DEFAULT 0,
        not_synced INTEGER NOT NULL DEFAULT 0,
        deleted INTEGER NOT NULL DEFAULT 0,
        changes INTEGER NOT NULL DEFAULT 0)""",
    f"""INSERT INTO customer_stats (business_id, total, synced, not_synced, deleted)
        SELECT business_id, count(*), {
        ", ".join(f"coalesce(sum({term.format(t='')}), 0)" for term in FILTERS.values())
    } FROM customer GROUP BY business_id""",
    f"CREATE TRIGGER customer_stats_insert AFTER INSERT ON customer BEGIN {_count('NEW', '')} END",
    f"CREATE TRIGGER customer_stats_delete AFTER DELETE ON customer BEGIN {_count('OLD', '-')} END",
    f"""CREATE TRIGGER customer_stats_update AFTER UPDATE ON customer BEGIN
        {_count("OLD", "-")} {_count("NEW", "")} END""",
    """CREATE VIRTUAL TABLE customer_fts USING fts5(
        name, email, content='customer', content_rowid='id', tokenize='trigram')""",
    "INSERT INTO customer_fts (customer_fts) VALUES ('rebuild')",
    f"CREATE TRIGGER customer_fts_insert AFTER INSERT ON customer BEGIN {_fts('NEW', False)} END",
    f"CREATE TRIGGER customer_fts_delete AFTER DELETE ON customer BEGIN {_fts('OLD', True)} END",
    f"""CREATE TRIGGER customer_fts_update AFTER UPDATE OF name, email ON customer BEGIN
        {_fts("OLD", True)} {_fts("NEW", False)} END""",
]


# The indexed search text: name and email joined by a character no query contains, so
# a substring never spans both (FTS5 matches within one column). Must stay equal to
# models/customer_search_postgres.py SEARCH_TEXT, or the index is not used.
SEARCH_TEXT = "(coalesce(name, '') || chr(1) || coalesce(email, ''))"


def _pg_flags() -> str:
    return ", ".join(f"sum(sign * ({term.format(t='')})::int)" for term in FILTERS.values())


def _pg_stats_function(name: str, tables: dict[str, int]) -> str:
    """A trigger function adding ``tables`` (transition table -> +1/-1) to the stats."""
    rows = " UNION ALL ".join(
        f"SELECT business_id, stripe_customer_id, deleted_in_stripe_at, {sign} AS sign FROM {table}"
        for table, sign in tables.items()
    )
    return f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO customer_stats AS s
            (business_id, total, synced, not_synced, deleted, changes)
          SELECT business_id, sum(sign), {_pg_flags()}, 1
            FROM ({rows}) AS changed GROUP BY business_id ORDER BY business_id
          ON CONFLICT (business_id) DO UPDATE SET
            total = s.total + excluded.total, synced = s.synced + excluded.synced,
            not_synced = s.not_synced + excluded.not_synced,
            deleted = s.deleted + excluded.deleted, changes = s.changes + 1;
          RETURN NULL;
        END $$"""


_PG_TRIGGERS = {
    "INSERT": ("REFERENCING NEW TABLE AS new_rows", {"new_rows": 1}),
    "DELETE": ("REFERENCING OLD TABLE AS old_rows", {"old_rows": -1}),
    "UPDATE": (
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        {"old_rows": -1, "new_rows": 1},
    ),
}

POSTGRES_STATEMENTS = [
    *STATEMENTS[:4],
    f"""INSERT INTO customer_stats (business_id, total, synced, not_synced, deleted)
        SELECT business_id, count(*), {
        ", ".join(f"count(*) FILTER (WHERE {term.format(t='')})" for term in FILTERS.values())
    } FROM customer GROUP BY business_id""",
    *(
        statement
        for event, (referencing, tables) in _PG_TRIGGERS.items()
        for statement in (
            _pg_stats_function(f"customer_stats_{event.lower()}", tables),
            f"""CREATE TRIGGER customer_stats_{event.lower()} AFTER {event} ON customer
                {referencing} FOR EACH STATEMENT
                EXECUTE FUNCTION customer_stats_{event.lower()}()""",
        )
    ),
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX customer_search ON customer USING gin ({SEARCH_TEXT} gin_trgm_ops)",
]


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
