"""The job queue and the release step: where the queue lives, which processes run
jobs, stopping a consumer when the next app is built, the database's clock, and
processes that refuse a schema they were not written for (``flask db upgrade``)."""

from __future__ import annotations

import os
import re
import subprocess
import threading
from datetime import timedelta

import pytest

from app import create_app
from models.db import Select, db, db_clock, db_now
from models.migrations import SchemaNotCurrent, available
from models.user import utcnow
from sync import jobs
from tests.conftest import database_at, make_test_app
from tests.scale_support import BIN, ROOT, redis_url

__all__ = ["redis_url"]


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [
        ("sqlite:////srv/app/data.sqlite3", "/srv/app/data-jobs.sqlite3"),
        ("/srv/app/data.sqlite3", "/srv/app/data-jobs.sqlite3"),
        ("postgresql://u:p@db:5432/shingleai", "/srv/instance/jobs.sqlite3"),
    ],
    ids=["sqlite-url", "sqlite-path", "postgres"],
)
def test_the_embedded_queue_lives_beside_the_database(database_url, expected):
    assert jobs.jobs_file(database_url, "/srv/instance") == expected


@pytest.mark.parametrize(
    ("config", "runs_jobs"),
    [
        ({}, True),
        ({"REDIS_URL": "redis://r:6379/0"}, False),
        ({"REDIS_URL": "redis://r:6379/0", "JOBS_IN_PROCESS": "1"}, True),
        ({"JOBS_IN_PROCESS": "0"}, False),
    ],
    ids=["embedded", "scaled-out-web", "forced-on", "forced-off"],
)
def test_which_processes_run_jobs(config, runs_jobs):
    assert jobs.in_process(config) is runs_jobs


def _alive(consumer) -> list:
    return [thread for _, thread in consumer.worker_threads if thread.is_alive()]


@pytest.mark.sqlite_only  # the embedded layout: its queue file sits beside the SQLite file
def test_a_new_app_stops_the_previous_apps_consumer(tmp_path):
    make_test_app(tmp_path / "first")
    first = jobs._consumer
    assert len(_alive(first)) == 8  # WORKER_THREADS
    make_test_app(tmp_path / "second")
    assert _alive(first) == [] and not first.scheduler.is_alive()
    assert jobs._consumer is not first and len(_alive(jobs._consumer)) == 8
    assert (tmp_path / "second" / "test-jobs.sqlite3").exists()


def test_web_processes_only_enqueue_when_scaled_out(tmp_path, redis_url):
    make_test_app(
        tmp_path,
        REDIS_URL=redis_url,
        JOBS_QUEUE=f"q-{os.getpid()}-{tmp_path.name}",
        AUTO_MIGRATE="1",
    )
    assert jobs._consumer is None
    jobs.huey.flush()
    from sync.import_jobs import run_import

    run_import(12345)
    assert jobs.huey.pending_count() == 1  # waiting in Redis for a `flask worker`
    jobs.huey.flush()


def test_a_stopping_consumers_worker_hands_a_task_it_takes_back(tmp_path, redis_url):
    # Redis's blocking read can hand a worker a task after its consumer began to stop
    # (an import a stopping sibling just requeued): it must go back, not run here.
    queue = f"q-{os.getpid()}-{tmp_path.name}"
    make_test_app(tmp_path, REDIS_URL=redis_url, JOBS_QUEUE=queue, AUTO_MIGRATE="1")
    jobs.huey.flush()
    from sync.import_jobs import run_import

    run_import(12345)
    stop = threading.Event()
    stop.set()
    worker = jobs._Worker(jobs.huey, stop, 0.05, 2.0, 1.5)
    worker.loop()
    assert [task.args for task in jobs.huey.pending()] == [(12345,)]
    jobs.huey.flush()


def test_a_task_that_starts_while_the_consumer_stops_is_told_to_stop(app):
    with jobs.stoppable() as before:
        jobs._stop_running_tasks()
        with jobs.stoppable() as after:
            assert before.is_set() and after.is_set()
    jobs.start_consumer(1)  # a new consumer's tasks run on
    with jobs.stoppable() as fresh:
        assert not fresh.is_set()


def test_the_database_clock_drives_heartbeats(app):
    now = db_clock()
    assert abs(now - utcnow()) < timedelta(seconds=5)  # one host here; same clock
    earlier, later = Select(columns=[db_now(-60), db_now(60)]).bind(db).tuples().get()
    assert str(earlier) < str(now) < str(later)


def test_scaled_out_processes_refuse_an_old_schema_and_embedded_ones_migrate(tmp_path, redis_url):
    database_at(tmp_path, 7)
    config = {
        "TESTING": True,
        "SECRET_KEY": "k",
        "DATABASE_URL": str(tmp_path / "old.sqlite3"),
        "JOBS_QUEUE": f"q-{os.getpid()}-{tmp_path.name}",
        "AUTO_MIGRATE": "",  # the default, whatever the test run's environment says
    }
    missing = [m.version for m in available() if m.version > 7]
    with pytest.raises(
        SchemaNotCurrent, match=rf"lacks migration\(s\) {re.escape(str(missing))}.*flask db upgrade"
    ):
        create_app({**config, "REDIS_URL": redis_url})
    with pytest.raises(SchemaNotCurrent):
        create_app({**config, "AUTO_MIGRATE": "0"})
    create_app({**config, "REDIS_URL": ""})  # the embedded default migrates on start
    create_app({**config, "REDIS_URL": redis_url})  # now current: starts


def test_a_schema_from_a_newer_release_is_refused(app):
    db.execute_sql(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'm0099_x', 'now')"
    )
    with pytest.raises(SchemaNotCurrent, match=r"\[99\].*newer release"):
        create_app({**app.config, "AUTO_MIGRATE": "0"})


def _flask(*args: str, database: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FLASK_APP": "app", "SECRET_KEY": "k", "DATABASE_URL": database}
    env["AUTO_MIGRATE"] = ""  # the scaled-out default, whatever the test run's environment
    env["REDIS_URL"] = "redis://127.0.0.1:1/0"  # scaled out; never reached by these
    return subprocess.run(
        [str(BIN / "flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_flask_db_upgrade_is_the_release_step(tmp_path):
    database_at(tmp_path, 6)
    database = str(tmp_path / "old.sqlite3")
    db.close()
    refused = _flask("db", "check", database=database)
    assert refused.returncode == 1
    latest = available()[-1].version
    missing = [m.version for m in available() if m.version > 6]
    assert f"lacks migration(s) {missing}" in refused.stderr
    upgraded = _flask("db", "upgrade", database=database)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"Schema is current: migrations 1 to {latest} applied." in upgraded.stdout
    checked = _flask("db", "check", database=database)
    assert (checked.returncode, checked.stdout.strip()) == (0, "Schema is current.")


def test_flask_worker_refuses_to_start_on_an_old_schema(tmp_path):
    database_at(tmp_path, 6)
    db.close()
    worker = _flask("worker", database=str(tmp_path / "old.sqlite3"))
    assert worker.returncode != 0
    assert "flask db upgrade" in worker.stderr
