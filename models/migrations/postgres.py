"""SQLite migration SQL, spelled for Postgres.

Migrations are written once, in the SQL both engines share (see the package
docstring). The forms that differ only in spelling are translated here, mechanically:

- ``INTEGER PRIMARY KEY`` (SQLite's rowid alias) becomes ``BIGSERIAL PRIMARY KEY``;
- a ``<name>_at TEXT`` column becomes ``TIMESTAMP`` (every ``*_at`` column holds a naive
  UTC datetime written by Peewee's ``DateTimeField``; SQLite stores it as text);
- ``datetime('now')`` becomes the UTC ``now()``;
- the table ``user`` (a reserved word in Postgres) is quoted;
- columns a migration names in ``POSTGRES_BOOLEANS`` (``BooleanField``s, stored as 0/1
  ``INTEGER`` in SQLite) become ``BOOLEAN`` with a ``false``/``true`` default.
"""

from __future__ import annotations

import re

_RULES = [
    (re.compile(r"\bINTEGER PRIMARY KEY\b", re.I), "BIGSERIAL PRIMARY KEY"),
    (re.compile(r"\b(\w+_at)\s+TEXT\b", re.I), r"\1 TIMESTAMP"),
    (re.compile(r"datetime\('now'\)", re.I), "(now() AT TIME ZONE 'UTC')"),
    (
        re.compile(r"\b(TABLE|REFERENCES|INTO|FROM|UPDATE|JOIN|ON)\s+user\b(?!\")", re.I),
        r'\1 "user"',
    ),
]


def translate(statement: str, booleans: frozenset[str] | set[str] = frozenset()) -> str:
    """``statement`` as Postgres accepts it (unchanged when it already does)."""
    for pattern, replacement in _RULES:
        statement = pattern.sub(replacement, statement)
    for column in booleans:
        statement = re.sub(
            rf"\b{column}\s+INTEGER(\s+NOT NULL)?\s+DEFAULT\s+([01])\b",
            lambda m: (
                f"{m.group(0).split()[0]} BOOLEAN{m.group(1) or ''} DEFAULT "
                + ("true" if m.group(2) == "1" else "false")
            ),
            statement,
        )
    return statement
