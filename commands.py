"""Operations commands, registered with ``flask`` as plugins (pyproject.toml), so
they build the app themselves with the settings they need:

- ``flask db upgrade``: apply pending migrations — the release step when scaled out,
  where web processes and workers only check the schema and refuse an old one;
- ``flask db check``: exit non-zero unless the schema is current;
- ``flask worker``: run background jobs from the queue (scaled out: ``REDIS_URL``).
"""

from __future__ import annotations

import logging

import click

from app import create_app
from models.db import db
from models.migrations import SchemaNotCurrent, applied_versions, require_current


@click.group("db")
def db_cli() -> None:
    """The database schema."""


@db_cli.command("upgrade")
def upgrade() -> None:
    """Apply every pending migration (safe to run from several hosts at once)."""
    create_app({"AUTO_MIGRATE": "1", "JOBS_IN_PROCESS": "0"})
    with db.connection_context():
        versions = sorted(applied_versions(db))
    click.echo(f"Schema is current: migrations {versions[0]} to {versions[-1]} applied.")


@db_cli.command("check")
def check() -> None:
    """Exit 1 unless the schema is exactly what this release expects."""
    try:
        create_app({"AUTO_MIGRATE": "0", "JOBS_IN_PROCESS": "0"})
    except SchemaNotCurrent as error:
        raise click.ClickException(str(error)) from None
    with db.connection_context():
        require_current(db)
    click.echo("Schema is current.")


@click.command("worker")
@click.option("--threads", type=int, help="Consumer threads (default WORKER_THREADS, 8).")
def worker(threads: int | None) -> None:
    """Run background jobs (imports, retries, recovery, webhook replays, periodic
    passes) until SIGINT or SIGTERM; a running import hands its run back to the queue."""
    from sync import jobs

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(process)d %(threadName)s %(name)s: %(message)s"
    )
    app = create_app({"JOBS_IN_PROCESS": "0"})
    count = threads or int(app.config["WORKER_THREADS"])
    queue = "Redis" if app.config["REDIS_URL"] else "the embedded SQLite queue"
    click.echo(f"Worker consuming {queue} with {count} threads.")
    jobs.run_worker(count)
