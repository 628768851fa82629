"""Versioned schema migrations for both backends, applied at start-up.

One list of migrations serves SQLite and Postgres. Each ``mNNNN_name.py`` module in
this package has:

- ``STATEMENTS``: its SQL, written in SQLite's spelling, preferring SQL that Postgres
  accepts too, and ``up(db, migrator)``, which SQLite runs;
- optionally ``POSTGRES_BOOLEANS``: the 0/1 ``INTEGER`` columns that are booleans
  (``BooleanField``), which become ``BOOLEAN`` on Postgres;
- optionally ``POSTGRES_STATEMENTS``: the migration's SQL for Postgres, only where
  the engines differ beyond spelling (FTS5 vs pg_trgm, trigger bodies), or where
  ``up`` does more than run ``STATEMENTS`` (a ``migrator`` call).

On Postgres the runner executes ``POSTGRES_STATEMENTS`` if present, else
``STATEMENTS``, each through ``postgres.translate`` (``INTEGER PRIMARY KEY``,
``*_at TEXT``, ``datetime('now')``, the ``user`` table, ``POSTGRES_BOOLEANS``), so a
migration in the plain style needs nothing more. To port a SQLite-only migration, add
``POSTGRES_STATEMENTS`` beside ``STATEMENTS`` in the same module.

Applied versions are recorded in ``schema_migrations``. Each migration runs in its own
transaction — ``BEGIN IMMEDIATE`` on SQLite, a transaction holding an advisory lock on
Postgres (whose DDL is transactional) — so two processes starting at once cannot both
apply it, and a failed migration leaves the database at the previous version.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType

from peewee import Database
from playhouse.migrate import SqliteMigrator

from models.db import is_postgres, write_transaction
from models.migrations.postgres import translate

_MODULE_NAME = re.compile(r"^m(\d{4})_\w+$")
# pg_advisory_xact_lock key: "migr" in ASCII, one key for every database of a cluster
# is fine (migrations are short), and it never meets a key of the app's own.
_LOCK_KEY = 0x6D696772


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    module: ModuleType


def available() -> list[Migration]:
    """Every migration module in this package, in version order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        match = _MODULE_NAME.match(info.name)
        if match:
            module = importlib.import_module(f"{__name__}.{info.name}")
            found.append(Migration(int(match.group(1)), info.name, module))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version: {versions}")
    return found


def applied_versions(db: Database) -> set[int]:
    applied_at = "TIMESTAMP" if is_postgres(db) else "TEXT"
    db.execute_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        f" version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at {applied_at} NOT NULL)"
    )
    return {row[0] for row in db.execute_sql("SELECT version FROM schema_migrations")}


def postgres_statements(module: ModuleType) -> list[str]:
    """A migration's SQL as Postgres runs it."""
    booleans = set(getattr(module, "POSTGRES_BOOLEANS", ()))
    statements = getattr(module, "POSTGRES_STATEMENTS", module.STATEMENTS)
    return [translate(statement, booleans) for statement in statements]


def _apply(db: Database, migration: Migration) -> None:
    if is_postgres(db):
        for statement in postgres_statements(migration.module):
            db.execute_sql(statement)
    else:
        migration.module.up(db, SqliteMigrator(db))


def _lock(db: Database) -> None:
    """Make concurrent migrators take turns (SQLite's IMMEDIATE already does)."""
    if is_postgres(db):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))


def migrate(db: Database, *, target: int | None = None) -> list[int]:
    """Apply every pending migration up to ``target`` (all by default); return the
    versions applied. Safe to call on every start, from several processes at once."""
    done = []
    for migration in available():
        if target is not None and migration.version > target:
            break
        with write_transaction(db):
            _lock(db)
            # Re-read inside the lock: another process may have just applied it.
            if migration.version in applied_versions(db):
                continue
            _apply(db, migration)
            db.execute_sql(
                "INSERT INTO schema_migrations (version, name, applied_at)"
                f" VALUES ({db.param}, {db.param}, {db.param})",
                (migration.version, migration.name, datetime.now(UTC).replace(tzinfo=None)),
            )
        done.append(migration.version)
    return done


class SchemaNotCurrent(RuntimeError):
    """The database is behind (or ahead of) this release's migrations."""


def require_current(db: Database) -> None:
    """Refuse to run on a schema this code was not written for. Scaled out, processes
    never migrate on start: ``flask db upgrade`` is the release step."""
    expected = {m.version for m in available()}
    applied = applied_versions(db)
    missing, unknown = sorted(expected - applied), sorted(applied - expected)
    if missing:
        raise SchemaNotCurrent(
            f"The database schema lacks migration(s) {missing}: run `flask db upgrade` "
            "(the release step) before starting web processes and workers."
        )
    if unknown:
        raise SchemaNotCurrent(
            f"The database has migration(s) {unknown} this release does not know: it "
            "was upgraded by a newer release. Deploy that release."
        )
