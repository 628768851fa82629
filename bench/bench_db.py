"""The benchmarks' databases on either backend: a fresh database to run against (a
SQLite file, or a new database on the Postgres server of ``.ci/services``) and a plain
read connection that takes ``?`` placeholders on both, for checking results."""

from __future__ import annotations

import sqlite3
from pathlib import Path

POSTGRES_ADMIN_URL = "postgresql://shingleai@127.0.0.1:54329/postgres"
BACKENDS = ("sqlite", "postgres")


def fresh_database(backend: str, workdir: Path, name: str, admin_url: str) -> str:
    """The DATABASE_URL of a new, empty database called ``name``."""
    if backend == "sqlite":
        return str(workdir / f"{name}.sqlite3")
    import psycopg
    from psycopg import sql

    db_name = f"shingleai_bench_{name}".lower()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
    return f"{admin_url.rpartition('/')[0]}/{db_name}"


class Reader:
    """A read connection (autocommit, so each query sees the latest commit)."""

    def __init__(self, url: str, *, read_only: bool = False):
        self.postgres = url.startswith("postgresql://")
        if self.postgres:
            import psycopg

            self._conn = psycopg.connect(url, autocommit=True)
        else:
            target = f"file:{url}?mode=ro" if read_only else url
            self._conn = sqlite3.connect(target, uri=read_only)

    def execute(self, sql: str, params: tuple = ()):
        if self.postgres:
            sql = sql.replace("?", "%s")
        return self._conn.execute(sql, params)

    def close(self) -> None:
        self._conn.close()
