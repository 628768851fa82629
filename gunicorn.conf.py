"""Production server settings: ``gunicorn -c gunicorn.conf.py "app:create_app()"``.

Sized for a 2-core machine: one process per core (the GIL lets a process use one core)
and gthread workers, whose threads overlap the waits of slow requests (Stripe calls,
SQLite's write lock) while idle keep-alive connections cost no thread. SQLite itself is
configured in models/db.py (WAL, synchronous=NORMAL, busy timeout).
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

from app import DEFAULT_SECRET_KEY
from views import log_redaction

if os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY) == DEFAULT_SECRET_KEY:
    # Even with DEMO=1 or FLASK_DEBUG=1: a production server never signs sessions with
    # a key that anyone can read in the source.
    raise SystemExit("Set SECRET_KEY to a long random string before starting gunicorn.")

log_redaction.install()


class RedactingLogger(Logger):
    """The access log's fields with secrets masked (the request line's query, the
    Basic-auth user, headers a custom format names), before any format sees them."""

    def atoms(self, resp, req, environ, request_time):
        found = super().atoms(resp, req, environ, request_time)
        return {
            name: log_redaction.redact(value) if isinstance(value, str) else value
            for name, value in found.items()
        }


bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("THREADS", 8))
worker_connections = 1000
keepalive = 30  # Stripe and browsers reuse connections
timeout = 60
graceful_timeout = 30
# Each worker builds the app: migrations are safe to race (BEGIN IMMEDIATE on SQLite, an
# advisory lock on Postgres), and the embedded job consumer's threads must live in the
# workers, not in a forked-away master. Scaled out (REDIS_URL set), workers only check
# the schema and run no jobs.
preload_app = False
accesslog = os.environ.get("ACCESS_LOG") or None
logger_class = RedactingLogger
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")


def worker_exit(server, worker):
    """A stopping worker's embedded jobs hand their imports back to the queue."""
    from sync import jobs

    jobs.stop_consumer()
