"""The Postgres side of models/db.py: the URL picks the backend, requests borrow
pooled connections instead of connecting each time, and write transactions are
plain READ COMMITTED transactions."""

from __future__ import annotations

import pytest

from models.db import db, is_postgres, write_transaction
from tests.conftest import make_test_app

pytestmark = pytest.mark.postgres_only


def _backend_pid() -> int:
    return db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


def test_the_url_picks_postgres(app):
    assert is_postgres()


def test_requests_reuse_pooled_connections(tmp_path):
    # No consumer threads: they would borrow the pooled connection between requests.
    app = make_test_app(tmp_path, JOBS_IN_PROCESS="0")
    client = app.test_client()

    @app.get("/_pid")
    def pid():
        return str(_backend_pid())

    pids = {client.get("/_pid").get_data(as_text=True) for _ in range(5)}
    assert len(pids) == 1


def test_a_write_transaction_is_read_committed_and_rolls_back(app, business):
    with db.connection_context():
        with write_transaction():
            level = db.execute_sql("SHOW transaction_isolation").fetchone()[0]
        assert level == "read committed"
        with pytest.raises(RuntimeError), write_transaction():
            db.execute_sql("UPDATE business SET name = 'changed' WHERE id = %s", (business.id,))
            raise RuntimeError("roll back")
        name = db.execute_sql("SELECT name FROM business WHERE id = %s", (business.id,))
        assert name.fetchone()[0] != "changed"
