"""The one SQLite database, deferred so the app factory, the CLI and background
threads can each point it at the configured file."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from peewee import Model, OperationalError, SqliteDatabase

# WAL lets readers (list pages) run while the importer or a webhook writes; the busy
# timeout makes a writer wait for the lock instead of failing at once.
PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
    "cache_size": -64000,
    "temp_store": "memory",
}

db = SqliteDatabase(None)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


def database_path(url: str) -> str:
    """Turn ``sqlite:///path`` (or a bare path) into a filesystem path."""
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    if "://" in url:
        raise ValueError(f"DATABASE_URL must be sqlite:///path, got {url.split('://')[0]}://…")
    return url


# SQLite checkpoints the WAL and deletes it, with fsyncs, whenever the *last*
# connection to a database closes: with a connection per request, that was every
# request (about 5 ms each, 70 times the write itself). One idle connection held for the
# life of the process means a request's connection is never the last one.
_keeper: sqlite3.Connection | None = None


def _keep_open(path: str) -> None:
    global _keeper
    if _keeper is not None:
        _keeper.close()
        _keeper = None
    if path != ":memory:":
        _keeper = sqlite3.connect(path, check_same_thread=False)
        # Reading attaches the connection to the WAL, which is what holds it open.
        _keeper.execute("SELECT count(*) FROM sqlite_master").fetchone()


def write_transaction(database: SqliteDatabase = db):
    """A transaction that will write: it takes the write lock when it begins (SQLite's
    ``BEGIN IMMEDIATE``), so a read-decide-write inside it can never be invalidated by
    another writer, and a busy database makes it wait at the start rather than fail
    half-way. Nested, it is a savepoint of the outer transaction."""
    return database.atomic("IMMEDIATE")


def init_db(url: str) -> SqliteDatabase:
    """Point the shared database at ``url`` and create its folder."""
    path = database_path(url)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db.init(path, pragmas=PRAGMAS, check_same_thread=False)
    with db.connection_context():
        db.execute_sql("SELECT 1")  # creates the file in WAL mode before the keeper opens it
    _keep_open(path)
    return db


class StatementTimeout(Exception):
    """A statement ran past its ``statement_time_limit`` and was stopped."""


# SQLite calls the progress handler every this many virtual-machine instructions
# (tens of microseconds): how late past its limit a statement can stop.
_PROGRESS_STEPS = 1000
# Wall time allowed per millisecond of the CPU limit: waiting for a core on a busy
# machine is not the statement's cost, but a statement waiting on the disk still ends.
_WALL_FACTOR = 10


@contextmanager
def statement_time_limit(milliseconds: float, database: SqliteDatabase = db) -> Iterator[None]:
    """Stop any statement run inside the block once the block has used
    ``milliseconds`` of this thread's CPU (or ten times that in wall time), raising
    ``StatementTimeout``: a search costs at most this much, whatever was asked, and a
    loaded machine does not turn ordinary searches into refusals. SQLite has no
    statement timeout, so a progress handler interrupts the running statement
    (Postgres: ``SET LOCAL statement_timeout``)."""
    cpu_deadline = time.thread_time() + milliseconds / 1000
    wall_deadline = time.monotonic() + _WALL_FACTOR * milliseconds / 1000

    def past_deadline() -> bool:
        return time.thread_time() > cpu_deadline or time.monotonic() > wall_deadline

    connection = database.connection()
    connection.set_progress_handler(past_deadline, _PROGRESS_STEPS)
    try:
        yield
    except (OperationalError, sqlite3.OperationalError) as error:
        if "interrupted" not in str(error):
            raise
        raise StatementTimeout(f"stopped after {milliseconds:g} ms") from None
    finally:
        connection.set_progress_handler(None, 0)
