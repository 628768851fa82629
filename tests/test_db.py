"""Database set-up: pragmas, no WAL checkpoint each time a request closes its
connection, and connections reused from a pool (never one to a file left behind)."""

import os
import threading

import pytest

from models.db import database_path, db, init_db

pytestmark = pytest.mark.sqlite_only


def test_pragmas_are_set(app):
    with db.connection_context():
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 5000


def test_closing_a_request_connection_does_not_checkpoint_the_wal(app, client):
    """The last connection to close checkpoints and deletes the WAL (fsyncs): the
    process keeps one open so a request's close never is the last."""
    client.get("/login")
    with db.connection_context():
        db.execute_sql("CREATE TABLE scratch (x)")
    assert db.is_closed()
    assert os.path.exists(db.database + "-wal")


def test_database_url_must_be_sqlite():
    assert database_path("sqlite:////tmp/x.db") == "/tmp/x.db"
    with pytest.raises(ValueError, match="sqlite:///"):
        database_path("postgres://host/db")


def _file_of_connection() -> str:
    return db.execute_sql("PRAGMA database_list").fetchone()[2]


def test_a_closed_connection_is_reused_with_its_pragmas(app):
    with db.connection_context():
        db.connection()
    # Idle in the pool now, with any the app's job threads gave back: the next
    # checkout takes one of those (the longest idle), never a new connect.
    opened = set(db.obj._born)
    with db.connection_context():
        assert db.obj.conn_key(db.connection()) in opened
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_connection_left_in_a_transaction_is_rolled_back_before_reuse(app):
    db.connect()
    db.execute_sql("BEGIN IMMEDIATE")  # raw SQL: peewee does not know to refuse the close
    db.execute_sql("CREATE TABLE scratch (x)")
    db.close()
    with db.connection_context():
        assert not db.connection().in_transaction
        found = db.execute_sql("SELECT name FROM sqlite_master WHERE name = 'scratch'")
        assert found.fetchone() is None


def test_a_connection_to_the_previous_file_is_never_reused(tmp_path, app):
    """A thread holding a connection while the database is pointed at another file
    (tests build many apps in one process) checks it in afterwards: it is closed,
    not handed to the next request."""
    checked_out, repointed = threading.Event(), threading.Event()

    def hold_then_close():
        with db.connection_context():
            checked_out.set()
            repointed.wait(10)

    thread = threading.Thread(target=hold_then_close)
    thread.start()
    assert checked_out.wait(10)
    other = str(tmp_path / "other.sqlite3")
    init_db(other)
    repointed.set()
    thread.join(10)
    for _ in range(3):
        with db.connection_context():
            assert _file_of_connection() == other
