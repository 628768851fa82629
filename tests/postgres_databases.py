"""The Postgres database of the tests of one process: created and migrated once, and
emptied after each test that used it (rows deleted and sequences restarted, so ids
start at 1 again as in a new SQLite file). Creating a database per test from a template was
measured at 1 to 1.5 s a test on this machine, and TRUNCATE (new files for every table
and index) at 0.3 s; deleting the few rows a test wrote takes milliseconds.

Why the reset is careful:

- The database is named after this process (``shingleai_test_<worker>_<pid>_<n>``), never
  after the xdist worker alone: two runs on one server (two engineers, or CI beside a
  benchmark) used to share ``shingleai_test_gw0`` and drop, empty and terminate each
  other's sessions. Databases of processes that no longer exist are dropped at the first
  use; each process drops its own at exit.
- The test's app keeps consumer threads (the embedded job queue: periodic passes,
  recoveries) that use the database until stopped. They are stopped before the pool is
  closed: closing a connection under a running thread frees its socket, whose number the
  next connection (the reset's own) then reuses while the old thread still waits on it.
  That was the reset that hung, its admin connection waiting forever on a server that had
  already answered.
- A test that changed the schema (a migration row of a newer release, a dropped index)
  would leak that change into every later test: the schema and its migration rows are
  compared with the freshly migrated database's at each reset, and a changed database is
  replaced by a new one.
- Every admin connection has a connect, lock and statement timeout, and the whole reset a
  deadline: a reset that cannot finish fails the test loudly (with every thread's stack)
  and the next test gets a new database, instead of the run hanging.
"""

from __future__ import annotations

import atexit
import faulthandler
import os
import re
import sys
import threading

import psycopg
from psycopg import sql

from models.db import db, init_db, is_postgres
from models.migrations import migrate
from sync import jobs

PREFIX = "shingleai_test_"
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
_OURS = re.compile(rf"^{PREFIX}[a-z0-9]+_(\d+)_\d+$")
RESET_DEADLINE = 60.0  # seconds for a whole reset; a healthy one takes milliseconds
# Every admin session: a dead server or a held lock becomes an error, not a wait.
_ADMIN = {
    "autocommit": True,
    "connect_timeout": 10,
    "application_name": "shingleai-test-admin",
    "options": "-c lock_timeout=10s -c statement_timeout=30s",
}
_state: dict = {
    "name": None,  # this process's current test database
    "generation": 0,
    "used": False,  # whether the running test used it (so it needs emptying)
    "empty": None,  # the statement that empties it
    "schema": None,  # its schema's fingerprint when freshly migrated
    "made": [],  # (admin URL, name) of every database made here, dropped at exit
}
# One statement that empties every table: triggers and foreign keys are off for the
# session (the test cluster's user is its superuser), so the order does not matter.
_EMPTY = """SELECT 'SET session_replication_role = replica; '
    || (SELECT string_agg(format('DELETE FROM %I;', tablename), ' ') FROM pg_tables
        WHERE schemaname = 'public' AND tablename <> 'schema_migrations')
    || coalesce((SELECT string_agg(format('SELECT setval(%L, 1, false);', sequencename), ' ')
        FROM pg_sequences WHERE schemaname = 'public'), '')"""
# Client sessions a test left in its database (a subprocess's, a thread's); waits up to
# 5 s for each to end, so none still holds a lock when the rows are deleted.
_OTHER_SESSIONS = """SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
    AND backend_type = 'client backend'"""
# Tables, columns, indexes, functions, triggers and migration rows, as one digest.
_SCHEMA = """SELECT md5(string_agg(item, ',' ORDER BY item)) FROM (
    SELECT format('c %s.%s %s %s %s', table_name, column_name, data_type, is_nullable,
        column_default) FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL SELECT 'i ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL SELECT format('f %s %s', p.oid::regprocedure, md5(p.prosrc)) FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
    UNION ALL SELECT format('t %s %s', tgname, tgrelid::regclass) FROM pg_trigger
        WHERE NOT tgisinternal
    UNION ALL SELECT format('m %s %s', version, name) FROM schema_migrations) AS s(item)"""
_SESSIONS = """SELECT pid, application_name, state, wait_event_type, wait_event,
    left(query, 200) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()"""


class ResetFailed(Exception):
    """The test database could not be emptied: the next test gets a new one."""


def _url(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop(conn: psycopg.Connection, name: str) -> None:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _drop_abandoned(conn: psycopg.Connection) -> None:
    """Drop the test databases of processes that ended without dropping theirs (killed)."""
    names = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [PREFIX + "%"])
    for (name,) in names.fetchall():
        match = _OURS.match(name)
        if match and not _alive(int(match.group(1))):
            _drop(conn, name)


def for_test(admin_url: str) -> str:
    """The URL of this process's test database, created and migrated on first use."""
    if _state["name"] is None:
        _state["generation"] += 1
        name = f"{PREFIX}{_WORKER}_{os.getpid()}_{_state['generation']}"
        with psycopg.connect(admin_url, **_ADMIN) as conn:
            if _state["generation"] == 1:
                _drop_abandoned(conn)
            for _, previous in _state["made"]:  # replaced: a failed reset, a changed schema
                _drop(conn, previous)
            _drop(conn, name)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        _state["made"] = [(admin_url, name)]
        init_db(_url(admin_url, name))
        with db.connection_context():
            migrate(db)
        with psycopg.connect(_url(admin_url, name), **_ADMIN) as conn:
            schema = conn.execute(_SCHEMA).fetchone()[0]
        _state.update(name=name, empty=None, schema=schema)
    _state["used"] = True
    return _url(admin_url, _state["name"])


def _stop_background_work() -> None:
    """Stop the test app's consumer threads and close the pool's connections, so that
    nothing of this process uses the database while it is emptied."""
    jobs.stop_consumer()
    if is_postgres():
        db.obj.close_all()


def _empty(url: str) -> None:
    with psycopg.connect(url, **_ADMIN) as conn:
        conn.execute(_OTHER_SESSIONS)
        if conn.execute(_SCHEMA).fetchone()[0] != _state["schema"]:
            _state["name"] = None  # the next test gets a new, freshly migrated database
            return
        for attempt in (1, 2):
            if attempt == 2:
                conn.execute(_OTHER_SESSIONS)
            if _state["empty"] is None:
                _state["empty"] = conn.execute(_EMPTY).fetchone()[0]
            try:
                conn.execute(_state["empty"])
                return
            except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled) as error:
                if attempt == 2:
                    sessions = conn.execute(_SESSIONS).fetchall()
                    raise ResetFailed(f"{error}; sessions still in it: {sessions}") from error


def _within(deadline: float, work, *args) -> None:
    """Run ``work`` in a thread and give up after ``deadline`` seconds, printing every
    thread's stack: whatever it waits on, the test fails instead of the run hanging."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            work(*args)
        except BaseException as error:  # handed to the caller's thread
            outcome.append(error)
        else:
            outcome.append(None)

    worker = threading.Thread(target=run, name="test-database-reset", daemon=True)
    worker.start()
    worker.join(deadline)
    if not outcome:
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        raise ResetFailed(f"emptying the test database took over {deadline:.0f} s (stacks above)")
    if outcome[0] is not None:
        raise outcome[0]


def reset(admin_url: str) -> None:
    """Empty every table after a test that used the database (or replace the database
    when the test changed its schema). A reset that fails or times out raises, and the
    next test starts on a new database."""
    if not _state["used"]:
        return
    _state["used"] = False
    name = _state["name"]
    _stop_background_work()
    try:
        _within(RESET_DEADLINE, _empty, _url(admin_url, name))
    except BaseException as error:
        _state["name"] = None
        raise ResetFailed(f"could not empty test database {name}: {error}") from error


def _drop_ours() -> None:
    """At exit: drop the databases this process made."""
    for admin_url, name in _state["made"]:
        try:
            with psycopg.connect(admin_url, **_ADMIN) as conn:
                _drop(conn, name)
        except psycopg.Error as error:  # the next run drops it as abandoned
            print(f"test database {name} left behind: {error}", file=sys.stderr)


atexit.register(_drop_ours)
