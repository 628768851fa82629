"""The Customers list's search on Postgres: pg_trgm in place of SQLite's FTS5.

The same answer as the FTS5 trigram path — a case-insensitive substring of the name
or the email — from ``ILIKE`` over one expression, name and email joined by a
character no query holds, so a match never spans both. Migration 0007 indexes that
expression with a GIN ``gin_trgm_ops`` index; pg_trgm narrows the candidates by
trigram and Postgres re-checks each one with the real ``ILIKE``, so the rows are exact
whatever the query (short or punctuated queries only make the index narrow less).
"""

from __future__ import annotations

from peewee import SQL

from models.db import execute

# Equal to migration 0007's SEARCH_TEXT, or the GIN index is not used.
SEARCH_TEXT = "(coalesce(name, '') || chr(1) || coalesce(email, ''))"
_SEPARATOR = "\x01"


def _impossible(q: str) -> bool:
    """A query no stored name or email can contain: Postgres text holds no NUL, and
    the separator is in no name or email."""
    return "\x00" in q or _SEPARATOR in q


def like_pattern(q: str) -> str:
    """``q`` as an ILIKE pattern matching it anywhere, its wildcards taken literally."""
    escaped = q.replace("\\", "\\\\")
    escaped = escaped.replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(q: str) -> SQL:
    """The WHERE term: name or email contains ``q``, ignoring case."""
    if _impossible(q):
        return SQL("FALSE")
    return SQL(f"{SEARCH_TEXT} ILIKE %s", (like_pattern(q),))


def matching_ids(business_id: int, q: str, limit: int) -> list[int]:
    """Ids of up to ``limit`` of the business's rows whose name or email holds ``q``."""
    if _impossible(q):
        return []
    cursor = execute(
        f"SELECT id FROM customer WHERE business_id = ? AND {SEARCH_TEXT} ILIKE ? LIMIT ?",
        (business_id, like_pattern(q), limit),
    )
    return [row[0] for row in cursor]
