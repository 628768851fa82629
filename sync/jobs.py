"""The job queue: every piece of background work (imports, their retries, recovery of
interrupted runs, replay of failed webhook events, periodic passes) is a task of one
Huey, so it outlives the request, the thread and the process that asked for it.

Where the queue lives is configuration, not code (``init_app``):

- embedded (``REDIS_URL`` unset): a SQLite file beside the app's database, drained by a
  pool of consumer threads inside each app process, so ``make run`` or a lone gunicorn
  needs nothing else;
- scaled out (``REDIS_URL`` set): Redis, drained by ``flask worker`` processes; web
  processes only enqueue.

Tasks are defined beside the work they run (``sync/import_jobs.py``,
``sync/webhooks.py``) on the ``huey`` below; they carry ids, never configuration or
secrets, and read the running app's settings through ``settings()``. A periodic pass is
``@huey.periodic_task(crontab(...))`` on a function that opens ``connection()``; the
consumer's scheduler enqueues it in whichever process runs one.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from huey import Huey
from huey.consumer import Consumer, Worker
from huey.storage import BlackHoleStorage, RedisStorage, SqliteStorage

from models.db import database_path, db

log = logging.getLogger(__name__)

DEFAULTS = {
    "REDIS_URL": "",  # empty: the embedded queue (SQLite file, consumer threads in process)
    "WORKER_THREADS": 8,  # consumer threads of `flask worker` (and of the embedded pool)
    "JOBS_IN_PROCESS": "",  # empty: yes when REDIS_URL is unset; 0/1 to force
    # The queue's (and the throttles') name: deployments sharing one Redis differ.
    "JOBS_QUEUE": "shingleai",
}
SHUTDOWN_TIMEOUT = 15.0  # seconds a stopping consumer waits for its tasks to wind down


class _Bell:
    """Wakes every idle worker of this process at once: on an enqueue here (SQLite has
    no blocking read, and Redis's BRPOP needs no help) and when the consumer stops."""

    def __init__(self):
        self._condition = threading.Condition()
        self._rung = 0

    def ring(self) -> None:
        with self._condition:
            self._rung += 1
            self._condition.notify_all()

    def wait(self, timeout: float) -> None:
        with self._condition:
            seen = self._rung
            self._condition.wait_for(lambda: self._rung != seen, timeout)


_bell = _Bell()


class _NotConfigured(BlackHoleStorage):
    def enqueue(self, data, priority=None):
        raise RuntimeError("The job queue is not configured: create_app() sets it up.")


class _Huey(Huey):
    def enqueue(self, task):
        result = super().enqueue(task)
        _bell.ring()
        return result


huey = _Huey("shingleai", results=False, storage_class=_NotConfigured)


class _Worker(Worker):
    def loop(self, now=None):
        """Huey's loop, except that a task taken after the consumer began to stop goes
        back to the queue for another consumer: Redis's blocking read can hand a worker
        a task (an import that a stopping sibling just requeued) after the stop."""
        try:
            task = self.huey.dequeue()
        except Exception:
            self._logger.exception("Error reading from queue")
            self.sleep()
            return
        if task is None:
            if not self.huey.storage.blocking:
                self.sleep()
            return
        if self.stop_flag.is_set():
            self.huey.enqueue(task)
            return
        self.delay = self.default_delay
        try:
            self.huey.execute(task, now)
        except Exception:
            self._logger.exception("Unhandled error during execution of task %s.", task.id)

    def sleep(self):
        self.delay = min(self.delay, self.max_delay)
        _bell.wait(self.delay)
        self.delay *= self.backoff


class _Consumer(Consumer):
    """Huey's thread consumer that, when stopping, first asks running tasks to wind
    down (an import saves its place and requeues itself) and leaves the host
    process's signals alone unless it owns the process (``flask worker``)."""

    worker_class = _Worker

    def __init__(self, *args, owns_process: bool, **kwargs):
        self.owns_process = owns_process
        super().__init__(*args, **kwargs)

    def _set_signal_handlers(self):
        if self.owns_process:
            super()._set_signal_handlers()

    def stop(self, graceful=False):
        _stop_running_tasks()
        self.stop_flag.set()
        _bell.ring()
        super().stop(graceful=True)


_settings: Mapping | None = None
_consumer: _Consumer | None = None
_running: set[threading.Event] = set()
_running_lock = threading.Lock()
# Set while this process's consumer stops: a task starting then is told to stop at once.
_stopping = threading.Event()


def in_process(config: Mapping) -> bool:
    """Whether this app process runs jobs itself (the embedded default)."""
    value = str(config.get("JOBS_IN_PROCESS", "")).strip().lower()
    if value == "":
        return not config.get("REDIS_URL")
    return value in {"1", "true", "yes"}


def jobs_file(database_url: str, instance_path: str) -> str:
    """The embedded queue's SQLite file: beside a SQLite database, or in the instance
    folder when the database is a server (or in memory)."""
    in_memory = database_url in (":memory:", "sqlite:///:memory:")
    if in_memory or ("://" in database_url and not database_url.startswith("sqlite:///")):
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        return str(Path(instance_path) / "jobs.sqlite3")
    path = Path(database_path(database_url))
    return str(path.with_name(f"{path.stem}-jobs.sqlite3"))


def init_app(app, *, database_url: str) -> None:
    """Point the queue at Redis or at the embedded file, and start the in-process
    consumer when this process runs jobs. An earlier app's consumer (tests build many
    apps in one process) is stopped first."""
    global _settings
    stop_consumer()
    huey.name = app.config.get("JOBS_QUEUE") or DEFAULTS["JOBS_QUEUE"]
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        huey.storage = RedisStorage(huey.name, url=redis_url)
    else:
        huey.storage = SqliteStorage(huey.name, filename=jobs_file(database_url, app.instance_path))
    _settings = app.config
    if in_process(app.config):
        start_consumer(int(app.config.get("WORKER_THREADS", DEFAULTS["WORKER_THREADS"])))


def settings() -> Mapping:
    """The configuration of the app this process serves, for tasks."""
    if _settings is None:
        raise RuntimeError("The job queue is not configured: create_app() sets it up.")
    return _settings


def start_consumer(threads: int, *, owns_process: bool = False) -> _Consumer:
    """Start consumer threads (and the scheduler of timed and periodic tasks); they
    are stopped when the process exits, so running imports hand their runs back."""
    global _consumer
    _stopping.clear()
    _consumer = _Consumer(
        huey,
        workers=threads,
        periodic=True,
        initial_delay=0.05,
        backoff=1.5,
        max_delay=2.0,
        check_worker_health=owns_process,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        owns_process=owns_process,
    )
    _consumer.start()
    return _consumer


def stop_consumer() -> None:
    """Stop this process's consumer, letting running tasks save their place."""
    global _consumer
    consumer, _consumer = _consumer, None
    if consumer is not None:
        consumer.stop()


# At exit, so that running imports hand their runs back (a killed process cannot, and
# the recovery sweep covers that).
atexit.register(stop_consumer)


def run_worker(threads: int) -> None:
    """``flask worker``: consume in the foreground until SIGINT/SIGTERM."""
    global _consumer
    _stopping.clear()
    _consumer = _Consumer(
        huey,
        workers=threads,
        periodic=True,
        check_worker_health=True,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        owns_process=True,
    )
    _consumer.run()


@contextlib.contextmanager
def stoppable() -> Iterator[threading.Event]:
    """An event that is set when this process's consumer stops: long tasks watch it
    and wind down (an import saves its place and requeues itself)."""
    event = threading.Event()
    with _running_lock:
        _running.add(event)
        if _stopping.is_set():  # began as the consumer stops: wind down at once
            event.set()
    try:
        yield event
    finally:
        with _running_lock:
            _running.discard(event)


def _stop_running_tasks() -> None:
    with _running_lock:
        _stopping.set()
        for event in _running:
            event.set()


@contextlib.contextmanager
def connection() -> Iterator[None]:
    """A database connection for a task's thread; closed afterwards only if opened here."""
    opened = db.is_closed()
    if opened:
        db.connect()
    try:
        yield
    finally:
        if opened and not db.is_closed():
            db.close()
