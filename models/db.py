"""The one database, SQLite or Postgres, chosen by ``DATABASE_URL``.

``db`` is a deferred proxy that the app factory, the CLI and background threads point
at the configured database; models and queries never name the backend. What differs
between the two lives here, behind small helpers: how a write transaction begins
(``write_transaction``), raw SQL placeholders (``execute``), and SQLite's index hints
(``table_hint``). SQLite stays the default: a file, WAL, a connection kept open.
Both backends hand out connections from a pool (Postgres through psycopg 3), so a
request does not pay for a connect: on SQLite that was a fifth of a webhook's CPU,
mostly the six pragmas every new connection runs.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from peewee import (
    SQL,
    Database,
    DatabaseProxy,
    DateTimeField,
    Model,
    Node,
    OperationalError,
    Select,
    fn,
)
from playhouse.pool import PooledSqliteDatabase
from playhouse.postgres_ext import PooledPsycopg3Database

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
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
# Connections one process keeps: gunicorn's threads, the import's writer, the webhook
# failure recorder and the live list's polls each hold one for a moment.
POOL_SIZE = 32
POOL_WAIT = 30  # seconds a request waits for a free connection before failing
# Pauses between tries to begin a write while another process writes (seconds).
_FIRST_RETRY = 0.0005
_LAST_RETRY = 0.004

db = DatabaseProxy()


class _SqlitePool(PooledSqliteDatabase):
    """Peewee's SQLite pool, which also never hands out a connection to the file the
    database pointed at before ``init`` (tests point it at many files in one process;
    a connection checked out then may be checked in afterwards)."""

    def __init__(self, *args, **kwargs):
        self._generation = 0
        self._born: dict[int, int] = {}  # connection key -> generation it was opened in
        super().__init__(*args, **kwargs)

    def init(self, database, **kwargs):
        with self._pool_lock:
            self._generation += 1
            self.close_idle()
        super().init(database, **kwargs)

    def _connect(self):
        conn = super()._connect()
        self._born[self.conn_key(conn)] = self._generation
        return conn

    def _is_closed(self, conn) -> bool:
        if self._born.get(self.conn_key(conn)) != self._generation:
            self._close_raw(conn)
            return True
        return super()._is_closed(conn)

    def _can_reuse(self, conn) -> bool:
        return self._born.get(self.conn_key(conn)) == self._generation and super()._can_reuse(conn)

    def _close_raw(self, conn):
        self._born.pop(self.conn_key(conn), None)
        super()._close_raw(conn)

    def begin(self, lock_type=None):
        """``BEGIN IMMEDIATE`` retried every few milliseconds while another process
        writes, instead of by SQLite's busy handler, which sleeps up to 100 ms between
        tries (Python's sqlite3 cannot install another): the lock is taken soon after it
        is freed. Gives up after the busy timeout, as SQLite would."""
        if lock_type != "IMMEDIATE":
            return super().begin(lock_type)
        connection = self.connection()
        deadline = time.monotonic() + PRAGMAS["busy_timeout"] / 1000
        delay = _FIRST_RETRY
        connection.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    return super().begin(lock_type)
                except OperationalError as error:
                    if "locked" not in str(error) or time.monotonic() > deadline:
                        raise
                time.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, _LAST_RETRY)
        finally:
            connection.execute(f"PRAGMA busy_timeout = {PRAGMAS['busy_timeout']}")


# No cap (0), as without a pool: gunicorn's threads, the job consumer's and an import's
# each hold at most one; idle ones wait in the pool.
_sqlite = _SqlitePool(None, max_connections=0)


def register_sqlite_function(function, name: str, arguments: int) -> None:
    """Make a Python function callable from SQL on every SQLite connection (triggers
    use them); Postgres has its own SQL functions, defined by migrations."""
    _sqlite.register_function(function, name, arguments, deterministic=True)


_postgres = PooledPsycopg3Database(None)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


def is_postgres_url(url: str) -> bool:
    return url.startswith(POSTGRES_SCHEMES)


def is_postgres(database: Database | DatabaseProxy = db) -> bool:
    """Whether ``database`` (by default the shared one) is the Postgres backend."""
    target = database.obj if isinstance(database, DatabaseProxy) else database
    return isinstance(target, PooledPsycopg3Database)


def database_path(url: str) -> str:
    """Turn ``sqlite:///path`` (or a bare path) into a filesystem path."""
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    if "://" in url:
        raise ValueError(
            "DATABASE_URL must be sqlite:///path or postgresql://user:pass@host:port/db,"
            f" got {url.split('://')[0]}://…"
        )
    return url


# SQLite checkpoints the WAL and deletes it, with fsyncs, whenever the *last*
# connection to a database closes: with a connection per request, that was every
# request (about 5 ms each, 70 times the write itself). One idle connection held for the
# life of the process means a request's connection is never the last one.
_keeper: sqlite3.Connection | None = None


def _keep_open(path: str | None) -> None:
    global _keeper
    if _keeper is not None:
        _keeper.close()
        _keeper = None
    if path and path != ":memory:":
        _keeper = sqlite3.connect(path, check_same_thread=False)
        # Reading attaches the connection to the WAL, which is what holds it open.
        _keeper.execute("SELECT count(*) FROM sqlite_master").fetchone()


def write_transaction(database: Database | DatabaseProxy = db):
    """A transaction that will write. Nested, it is a savepoint of the outer one.

    SQLite: ``BEGIN IMMEDIATE`` takes the database's one write lock at the start, so a
    read-decide-write inside can never be invalidated by another writer, and a busy
    database makes it wait at the start rather than fail half-way.

    Postgres: READ COMMITTED, the default. Writers do not serialise on one lock, so
    every read-decide-write in this code base is a single statement that decides and
    writes at once, on row locks: conditional upserts (``ON CONFLICT … DO UPDATE …
    WHERE``), claims (``ON CONFLICT DO NOTHING RETURNING``), ``UPDATE … WHERE`` guards
    and unique indexes. A conflicting writer waits for the row, then re-checks the
    condition against the committed row, so older data can never win. SERIALIZABLE
    would give the same guarantee by aborting one writer, at the price of retries.
    """
    if is_postgres(database):
        return database.atomic()
    return _sqlite_write_transaction(database)


# Threads of one process that want to write queue here rather than in SQLite's busy
# handler: a writer that finds the database locked sleeps there for 1, 2, 5 … 100 ms
# between tries, so under a burst of webhooks the lock sat free while 16 threads slept
# (bench/webhooks.py: half the workers' thread time waited in BEGIN, p99 over 500 ms).
# A lock wakes the next writer as soon as the last one commits. Other processes still
# meet at SQLite's own lock: with this, at most one writer per process waits there.
_sqlite_writers = threading.Lock()


@contextmanager
def _sqlite_write_transaction(database: Database | DatabaseProxy) -> Iterator[None]:
    if database.in_transaction():  # nested: a savepoint of the transaction held
        with database.atomic("IMMEDIATE"):
            yield
        return
    if not _sqlite_writers.acquire(timeout=PRAGMAS["busy_timeout"] / 1000):
        raise OperationalError("database is locked")  # what SQLite says after its timeout
    try:
        with database.atomic("IMMEDIATE"):
            yield
    finally:
        _sqlite_writers.release()


def lock_rows(query) -> None:
    """Inside a write transaction, make later writers that lock the same rows wait until
    it ends: for a read-decide-write that no single statement or unique index can
    express (an "is this email taken?" check). Postgres: ``SELECT … FOR UPDATE``.
    SQLite: nothing to do, the write transaction already holds the database's lock."""
    if is_postgres():
        list(query.for_update().tuples())


def execute(sql: str, params: tuple | list = ()):
    """Run raw SQL written with ``?`` placeholders on either backend; returns the cursor.
    Keeps hand-written hot-path SQL in one spelling (psycopg's is ``%s``)."""
    if is_postgres():
        sql = sql.replace("%", "%%").replace("?", "%s")
    return db.execute_sql(sql, params)


def placeholders(count: int) -> str:
    """``?, ?, …`` for an ``IN (…)`` of ``count`` values in SQL run by ``execute``."""
    return ", ".join("?" * count)


def table_hint(table: str, alias: str, index: str | None) -> SQL:
    """``table AS alias`` for a FROM clause, with SQLite's ``INDEXED BY index`` (or
    ``NOT INDEXED`` when ``index`` is None). Postgres has no hints: its planner chooses
    from statistics, so the hint is left out there."""
    source = f'"{table}" AS "{alias}"'
    if is_postgres():
        return SQL(source)
    return SQL(f'{source} INDEXED BY "{index}"' if index else f"{source} NOT INDEXED")


def init_db(url: str) -> Database:
    """Point the shared database at ``url``: a Postgres URL or a SQLite file (whose
    folder is created). Returns the backend's database object."""
    if is_postgres_url(url):
        _keep_open(None)
        if not _postgres.deferred:
            _postgres.close_all()  # the pool holds connections to the previous URL
        _postgres.init(
            url.replace("postgres://", "postgresql://", 1),
            max_connections=POOL_SIZE,
            stale_timeout=300,
            timeout=POOL_WAIT,
        )
        db.initialize(_postgres)
        return _postgres
    path = database_path(url)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    _sqlite.init(path, pragmas=PRAGMAS, check_same_thread=False)
    db.initialize(_sqlite)
    with db.connection_context():
        db.execute_sql("SELECT 1")  # creates the file in WAL mode before the keeper opens it
    _keep_open(path)
    return _sqlite


def db_now(offset_seconds: float = 0.0, database=db) -> Node:
    """The database's clock (UTC, naive, like every stored time) as an SQL expression,
    shifted by ``offset_seconds``: heartbeats and staleness are measured by the one
    clock every host shares, never by each host's own."""
    if is_postgres(database):
        return SQL("(now() AT TIME ZONE 'UTC')") + timedelta(seconds=offset_seconds)
    return fn.strftime("%Y-%m-%d %H:%M:%f", "now", f"{offset_seconds:+.3f} seconds")


def db_clock(database=db) -> datetime:
    """The database's clock now, as a value (for comparisons made in Python)."""
    value = Select(columns=[db_now(database=database)]).bind(database).scalar()
    return value if isinstance(value, datetime) else DateTimeField().python_value(value)


class StatementTimeout(Exception):
    """A statement ran past its ``statement_time_limit`` and was stopped."""


# SQLite calls the progress handler every this many virtual-machine instructions
# (tens of microseconds): how late past its limit a statement can stop.
_PROGRESS_STEPS = 1000
# Wall time allowed per millisecond of the CPU limit: waiting for a core on a busy
# machine is not the statement's cost, but a statement waiting on the disk still ends.
_WALL_FACTOR = 10


@contextmanager
def statement_time_limit(milliseconds: float, database: Database = db) -> Iterator[None]:
    """Stop any statement run inside the block once the block has used
    ``milliseconds`` of this thread's CPU (or ten times that in wall time), raising
    ``StatementTimeout``: a search costs at most this much, whatever was asked, and a
    loaded machine does not turn ordinary searches into refusals. SQLite has no
    statement timeout, so a progress handler interrupts the running statement
    (Postgres: ``SET LOCAL statement_timeout``)."""
    if is_postgres(database):
        with _postgres_time_limit(milliseconds, database):
            yield
        return
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


@contextmanager
def _postgres_time_limit(milliseconds: float, database: Database) -> Iterator[None]:
    """Postgres's own limit, for the block's transaction only (wall time: the server
    cannot tell waiting for a core from working)."""
    with database.atomic():
        database.execute_sql(f"SET LOCAL statement_timeout = {max(1, int(milliseconds))}")
        try:
            yield
        except OperationalError as error:
            if "statement timeout" not in str(error):
                raise
            raise StatementTimeout(f"stopped after {milliseconds:g} ms") from None
