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


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
