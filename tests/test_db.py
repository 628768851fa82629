"""Database set-up: pragmas, and no WAL checkpoint each time a request closes its connection."""

import os

import pytest

from models.db import database_path, db

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
