"""Versioned schema migrations, applied at start-up.

Each ``mNNNN_name.py`` module in this package has an ``up(db, migrator)`` function.
Applied versions are recorded in ``schema_migrations``; each migration runs in its own
``BEGIN IMMEDIATE`` transaction, so two processes starting at once cannot both apply
it, and a failed migration leaves the database at the previous version.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from types import ModuleType

from peewee import SqliteDatabase
from playhouse.migrate import SqliteMigrator

from models.db import write_transaction

_MODULE_NAME = re.compile(r"^m(\d{4})_\w+$")


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


def applied_versions(db: SqliteDatabase) -> set[int]:
    db.execute_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    return {row[0] for row in db.execute_sql("SELECT version FROM schema_migrations")}


def migrate(db: SqliteDatabase, *, target: int | None = None) -> list[int]:
    """Apply every pending migration up to ``target`` (all by default); return the
    versions applied. Safe to call on every start."""
    done = []
    for migration in available():
        if target is not None and migration.version > target:
            break
        with write_transaction(db):
            # Re-read inside the lock: another process may have just applied it.
            if migration.version in applied_versions(db):
                continue
            migration.module.up(db, SqliteMigrator(db))
            db.execute_sql(
                "INSERT INTO schema_migrations (version, name, applied_at)"
                " VALUES (?, ?, datetime('now'))",
                (migration.version, migration.name),
            )
        done.append(migration.version)
    return done


class SchemaNotCurrent(RuntimeError):
    """The database is behind (or ahead of) this release's migrations."""


def require_current(db: SqliteDatabase) -> None:
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
