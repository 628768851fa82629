"""The Customers list as queries that stay fast at a million rows per business.

Every page is a walk over one index in list order (newest Customer since first, ties
by id; see migration 0007): the first page reads 51 index entries, and the Next and
Previous links carry a cursor (the Customer since and id of the edge row) so any later
page seeks straight to its place. A page number without a cursor (a typed URL) still
works, through OFFSET on the same narrow index. Counts come from ``customer_stats``.

Search (case-insensitive substring of name or email) takes one of two routes:
- a query of 3+ characters with at most ``EXACT_LIMIT`` matches in the whole database
  is answered from the FTS5 trigram index: exact rows, exact count;
- a frequent or short query walks the list index checking LIKE, which finds a page
  of frequent matches quickly; such a result is not counted (``total`` is None).
On Postgres the trigram index is pg_trgm's (models/customer_search_postgres.py) and
the index hints are left out (``table_hint``); the routes are the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import Tuple

from models import customer_search_postgres
from models.customer import SYNC_FILTERS, Customer
from models.db import db, execute, is_postgres, table_hint

PAGE_SIZE = 50
# Above this many FTS matches, joining them all would outweigh walking the index.
EXACT_LIMIT = 5000
MIN_FTS_QUERY = 3  # the trigram tokenizer matches nothing shorter
_LIST_INDEX = {
    "all": "customer_list",
    "synced": "customer_list_synced",
    "not_synced": "customer_list_not_synced",
    "deleted": "customer_list_deleted",
}
_ORDER = (Customer.customer_since.desc(), Customer.id.desc())
_REVERSED = (Customer.customer_since.asc(), Customer.id.asc())


class BadCursor(ValueError):
    """A cursor that is not ``<customer_since>.<id>``."""


def parse_cursor(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    since, _, row_id = value.partition(".")
    try:
        return int(since), int(row_id)
    except ValueError:
        raise BadCursor(f"not a list position: {value!r}") from None


def cursor_of(customer: Customer) -> str:
    return f"{int(customer.customer_since.timestamp())}.{customer.id}"


@dataclass
class ListPage:
    rows: list[Customer]
    page: int
    has_next: bool
    total: int | None  # None: too many search matches to count quickly

    @property
    def first(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    @property
    def next_cursor(self) -> str | None:
        return cursor_of(self.rows[-1]) if self.rows else None

    @property
    def prev_cursor(self) -> str | None:
        return cursor_of(self.rows[0]) if self.rows else None


def stats(business_id: int) -> dict[str, int]:
    """Row counts by Sync filter, and ``changes``, the business's change counter."""
    row = execute(
        "SELECT total, synced, not_synced, deleted, changes FROM customer_stats"
        " WHERE business_id = ?",
        (business_id,),
    ).fetchone()
    return dict(
        zip(("all", "synced", "not_synced", "deleted", "changes"), row or (0,) * 5, strict=True)
    )


def change_marker(business_id: int) -> int:
    """Grows whenever any of the business's customers is inserted, updated or deleted."""
    return stats(business_id)["changes"]


def _scoped(business_id: int, sync: str):
    """The business's rows in one filter, read through that filter's list index."""
    if sync not in SYNC_FILTERS:
        raise ValueError(f"unknown sync filter {sync!r}")
    source = table_hint("customer", "t1", _LIST_INDEX[sync])
    query = Customer.select().from_(source).where(Customer.business == business_id)
    condition = Customer.sync_condition(sync)
    return query if condition is None else query.where(condition)


def fts_phrase(q: str) -> str:
    """``q`` as one FTS5 phrase: with the trigram tokenizer, a substring match."""
    return '"' + q.replace('"', '""') + '"'


def _fts_ids(business_id: int, q: str) -> list[int] | None:
    """Ids of the business's rows whose name or email contains ``q``, or None when
    there are more than ``EXACT_LIMIT``. Scoped here, not after the limit: otherwise
    whether a search says "many" would reveal other businesses' customers."""
    if is_postgres():
        ids = customer_search_postgres.matching_ids(business_id, q, EXACT_LIMIT + 1)
        return ids if len(ids) <= EXACT_LIMIT else None
    cursor = db.execute_sql(
        # CROSS JOIN keeps the full-text match as the outer loop (SQLite's planner would
        # otherwise walk the business's million rows and match each one).
        "SELECT f.rowid FROM customer_fts AS f CROSS JOIN customer AS c ON c.id = f.rowid"
        " WHERE customer_fts MATCH ? AND c.business_id = ? LIMIT ?",
        (fts_phrase(q), business_id, EXACT_LIMIT + 1),
    )
    ids = [row[0] for row in cursor]
    return ids if len(ids) <= EXACT_LIMIT else None


def _keyset_page(query, page: int, after, before) -> ListPage:
    """One page of ``query`` in list order, placed by cursor or else by OFFSET."""
    key = Tuple(Customer.customer_since, Customer.id)
    if before is not None:
        rows = list(query.where(key > Tuple(*before)).order_by(*_REVERSED).limit(PAGE_SIZE))
        if len(rows) == PAGE_SIZE:
            return ListPage(rows[::-1], page, True, None)
        # Fewer rows than a page before the cursor: that is the first page.
        return _keyset_page(query, 1, None, None)
    if after is not None:
        query = query.where(key < Tuple(*after))
    else:
        # Skip through the narrow index alone, then read just the page's rows: about
        # twice as fast as OFFSET over the full rows at page 2,000.
        ids = query.select(Customer.id).order_by(*_ORDER)
        ids = ids.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
        query = Customer.select().where(Customer.id.in_(ids))
    rows = list(query.order_by(*_ORDER).limit(PAGE_SIZE + 1))
    return ListPage(rows[:PAGE_SIZE], page, len(rows) > PAGE_SIZE, None)


def list_page(
    business_id: int,
    *,
    sync: str = "all",
    q: str = "",
    page: int = 1,
    after: tuple[int, int] | None = None,
    before: tuple[int, int] | None = None,
) -> ListPage:
    """One page of the business's customers in list order, filtered and searched."""
    page = max(page, 1)
    if "\x00" in q:  # in no stored name or email (Postgres text cannot hold one)
        return ListPage([], page, False, 0)
    query = _scoped(business_id, sync)
    ids = _fts_ids(business_id, q) if len(q) >= MIN_FTS_QUERY else None
    if q and ids is not None:
        # NOT INDEXED keeps SQLite on rowid lookups of the few ids, rather than a walk
        # of a business-wide index.
        matches = (
            Customer.select(Customer.id)
            .from_(table_hint("customer", "t1", None))
            .where(Customer.id.in_(ids) & (Customer.business == business_id))
            .order_by(*_ORDER)
        )
        if Customer.sync_condition(sync) is not None:
            matches = matches.where(Customer.sync_condition(sync))
        ordered = [row_id for (row_id,) in matches.tuples()]
        start = (page - 1) * PAGE_SIZE
        chosen = ordered[start : start + PAGE_SIZE]
        rows = list(Customer.select().where(Customer.id.in_(chosen)).order_by(*_ORDER))
        return ListPage(rows, page, start + PAGE_SIZE < len(ordered), len(ordered))
    if q and is_postgres():
        query = query.where(customer_search_postgres.contains(q))
    elif q:
        query = query.where(Customer.name.contains(q) | Customer.email.contains(q))
    result = _keyset_page(query, page, after, before)
    if not q:
        result.total = stats(business_id)[sync]
    return result
