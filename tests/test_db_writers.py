"""SQLite writers: threads of one process queue for the write transaction, and a
writer waiting for another process retries its ``BEGIN IMMEDIATE`` every few
milliseconds, giving up after the busy timeout as SQLite would (models/db.py)."""

import sqlite3
import threading

import pytest
from peewee import OperationalError

from models.db import PRAGMAS, _sqlite_writers, db, write_transaction
from tests.conftest import wait_until

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def scratch(app):
    with db.connection_context():
        db.execute_sql("CREATE TABLE scratch (who TEXT)")
    yield
    with db.connection_context():
        db.execute_sql("DROP TABLE scratch")


def _rows() -> list[str]:
    with db.connection_context():
        return sorted(who for (who,) in db.execute_sql("SELECT who FROM scratch"))


def _other_process_writer() -> sqlite3.Connection:
    """A connection of its own, as another process has, holding the write lock."""
    other = sqlite3.connect(db.database, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO scratch VALUES ('other')")
    return other


def _write_in_thread(who: str, outcome: dict) -> threading.Thread:
    def work():
        try:
            with db.connection_context(), write_transaction():
                outcome.setdefault("began", threading.Event()).set()
                db.execute_sql("INSERT INTO scratch VALUES (?)", (who,))
                outcome["timeout"] = db.execute_sql("PRAGMA busy_timeout").fetchone()[0]
        except OperationalError as error:
            outcome["error"] = str(error)

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_a_writer_waits_for_another_process_then_writes(scratch):
    other = _other_process_writer()
    outcome: dict = {}
    thread = _write_in_thread("ours", outcome)
    assert "began" not in outcome  # the other process still holds the lock
    other.execute("COMMIT")
    thread.join(timeout=10)
    assert "error" not in outcome
    assert _rows() == ["other", "ours"]
    # Inside the transaction the connection has its busy timeout back.
    assert outcome["timeout"] == PRAGMAS["busy_timeout"]


def test_a_writer_gives_up_after_the_busy_timeout(scratch, monkeypatch):
    monkeypatch.setitem(PRAGMAS, "busy_timeout", 200)
    other = _other_process_writer()
    try:
        with db.connection_context():
            with pytest.raises(OperationalError, match="locked"), write_transaction():
                db.execute_sql("INSERT INTO scratch VALUES ('ours')")
            assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 200
    finally:
        other.execute("COMMIT")
    assert _rows() == ["other"]


def test_threads_of_one_process_take_turns(scratch):
    release = threading.Event()
    first: dict = {}

    def hold():
        with db.connection_context(), write_transaction():
            db.execute_sql("INSERT INTO scratch VALUES ('first')")
            first["holding"] = True
            release.wait(timeout=10)

    holder = threading.Thread(target=hold)
    holder.start()
    wait_until(lambda: first.get("holding"), message="the first writer holds the lock")
    second: dict = {}
    thread = _write_in_thread("second", second)
    assert "began" not in second
    release.set()
    holder.join(timeout=10)
    thread.join(timeout=10)
    assert "error" not in second
    assert _rows() == ["first", "second"]


def test_a_thread_waiting_longer_than_the_busy_timeout_gives_up(scratch, monkeypatch):
    monkeypatch.setitem(PRAGMAS, "busy_timeout", 200)
    release = threading.Event()
    holding = threading.Event()

    def hold():
        with db.connection_context(), write_transaction():
            holding.set()
            release.wait(timeout=10)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(timeout=10)
    try:
        with (
            db.connection_context(),
            pytest.raises(OperationalError, match="locked"),
            write_transaction(),
        ):
            db.execute_sql("INSERT INTO scratch VALUES ('late')")
    finally:
        release.set()
        holder.join(timeout=10)
    assert _rows() == []


def test_a_nested_write_is_a_savepoint_of_the_held_transaction(scratch):
    with db.connection_context(), write_transaction():
        db.execute_sql("INSERT INTO scratch VALUES ('outer')")
        with pytest.raises(RuntimeError), write_transaction():
            db.execute_sql("INSERT INTO scratch VALUES ('inner')")
            raise RuntimeError("inner fails")
        with write_transaction():
            db.execute_sql("INSERT INTO scratch VALUES ('kept')")
    assert _rows() == ["kept", "outer"]


def test_a_failed_transaction_lets_the_next_writer_in(scratch):
    with db.connection_context():
        with pytest.raises(RuntimeError), write_transaction():
            db.execute_sql("INSERT INTO scratch VALUES ('lost')")
            raise RuntimeError("fails")
        assert not _sqlite_writers.locked()
        with write_transaction():
            db.execute_sql("INSERT INTO scratch VALUES ('next')")
    assert _rows() == ["next"]
