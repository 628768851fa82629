"""The scaled-out layout for tests: a Redis (REDIS_URL, or one started here), and a
cluster of real processes — app processes under gunicorn and ``flask worker``s — on
one shared database (the test's own: a SQLite file, or on the Postgres run its
Postgres database), as ``make cluster`` runs them."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from tests.conftest import make_test_app, test_database_url, wait_until

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """REDIS_URL when the environment has one, else a private redis-server."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = shutil.which("redis-server")
    assert server, "redis-server is needed: run .ci/services start, or install redis-server"
    port, folder = free_port(), tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    wait_until(answers, timeout=20, message="redis-server answering")
    yield url
    process.terminate()
    process.wait(timeout=10)


class Cluster:
    """App processes and workers sharing one database and one Redis queue; the test
    process reaches the same database through its own app (which runs no jobs)."""

    def __init__(self, tmp_path: Path, redis_url: str, sandbox_url: str, **settings):
        self.database_url = test_database_url(tmp_path)
        self.env = {
            **os.environ,
            "FLASK_APP": "app",
            "SECRET_KEY": "test-secret-key",
            "PUBLIC_URL": "http://127.0.0.1",
            # Scaled out: processes only check the schema and web processes run no jobs,
            # whatever the test run's own environment says.
            "AUTO_MIGRATE": "",
            "JOBS_IN_PROCESS": "",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": redis_url,
            "JOBS_QUEUE": f"test-{uuid.uuid4().hex[:8]}",  # tests share one Redis
            "STRIPE_SANDBOX_URL": sandbox_url,
            **{key: str(value) for key, value in settings.items()},
        }
        self.app = make_test_app(
            tmp_path,
            DATABASE_URL=self.database_url,
            REDIS_URL=redis_url,
            JOBS_QUEUE=self.env["JOBS_QUEUE"],
            STRIPE_SANDBOX_URL=sandbox_url,
            AUTO_MIGRATE="1",  # the release step, before any process starts
            JOBS_IN_PROCESS="0",
            **settings,
        )
        self.logs = tmp_path / "logs"
        self.logs.mkdir()
        self.webs: list[str] = []
        self.workers: list[subprocess.Popen] = []
        self._processes: list[subprocess.Popen] = []

    def _spawn(self, name: str, command: list[str], **env) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._processes.append(process)
        return process

    def start_web(self) -> str:
        port = free_port()
        self._spawn(
            f"web{len(self.webs) + 1}",
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "app:create_app()"],
            BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY="1",
        )
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(url), timeout=30, message=f"{url} answering")
        self.webs.append(url)
        return url

    def start_worker(self) -> subprocess.Popen:
        name = f"worker{len(self.workers) + 1}"
        worker = self._spawn(name, [str(BIN / "flask"), "worker", "--threads", "2"])
        wait_until(
            lambda: b"Worker consuming" in (self.logs / f"{name}.log").read_bytes(),
            timeout=30,
            message=f"{name} consuming",
        )
        self.workers.append(worker)
        return worker

    def log_of(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self._processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/login", timeout=5).status_code == 200
    except (requests.ConnectionError, requests.Timeout):  # not listening, or still booting
        return False
