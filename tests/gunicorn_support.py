"""The app under gunicorn with gunicorn.conf.py, as production runs it, for the tests
that must see the real server: its access log, its answers on a kept-alive socket."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from models import User
from tests.conftest import PASSWORD, wait_until

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def gunicorn(tmp_path, *args: str, **env: str) -> Iterator[str]:
    """Serve a fresh database (with owner@example.com) under gunicorn; yields its URL.
    ``args`` go to gunicorn's command line, ``env`` on top of a production-like one."""
    from app import create_app

    database = tmp_path / "gunicorn.sqlite3"
    create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{database}"})
    User.create_owner("owner@example.com", PASSWORD, "Shingle Roofing")
    port = _free_port()
    environment = {key: value for key, value in os.environ.items() if key not in ("DEMO",)}
    environment.update(
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=str(database),
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        THREADS="4",
        IMPORT_RESUME_ON_START="0",
        **env,
    )
    process = subprocess.Popen(
        [str(GUNICORN), "-c", "gunicorn.conf.py", *args, "app:create_app()"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(lambda: process.poll() is not None or _accepts(port), timeout=60)
        assert process.poll() is None, process.stderr.read().decode()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
