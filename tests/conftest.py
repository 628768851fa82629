"""Fixtures shared by the whole suite, in the style of Flask's tutorial: an app on a
temporary SQLite file (or, with ``TEST_DATABASE_URL`` set, a Postgres database of its
own), a client, an owner who is logged in, a live server for the browser, and a real
Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from werkzeug.serving import make_server

from app import create_app
from models import Business, Customer, User
from models.db import db, init_db
from models.migrations import migrate
from tests import postgres_databases

PASSWORD = "correct horse battery"
# Set (by `make test`'s second run) to a Postgres server's admin database URL: every
# test's app then gets a fresh Postgres database instead of a SQLite file.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


# For long local runs of the convergence proof (tests/test_convergence.py):
# pytest --hypothesis-profile=convergence-long tests/test_convergence.py
settings.register_profile(
    "convergence-long",
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def test_database_url(tmp_path) -> str:
    """The database of the test that owns ``tmp_path``: a SQLite file (``:memory:``
    would be one database per connection) or the process's Postgres test database,
    emptied after each test."""
    if TEST_DATABASE_URL:
        return postgres_databases.for_test(TEST_DATABASE_URL)
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


def make_test_app(tmp_path, **config):
    """The suite's app on the test's own database, with ``config`` on top: the one
    place tests build an app. With ``REDIS_URL`` set (the Postgres run), the app still
    migrates and drains its own job queue, named after the test so that tests running
    at once on one Redis (this run's, or another's) never take each other's jobs or
    share throttle counters."""
    # A test that passes REDIS_URL itself is testing the scaled-out defaults (whatever
    # the Postgres run's environment says); every other app runs its own jobs.
    scaled_out = "REDIS_URL" in config
    own_queue = (
        {"AUTO_MIGRATE": "", "JOBS_IN_PROCESS": ""}
        if scaled_out
        else {"AUTO_MIGRATE": "1", "JOBS_IN_PROCESS": "1"}
    )
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": test_database_url(tmp_path),
            "JOBS_QUEUE": f"test-{os.getpid()}-{tmp_path.parent.name}-{tmp_path.name}",
            **own_queue,
            **config,
        }
    )


def pytest_collection_modifyitems(config, items):
    """Deselect (never skip) the tests of the other backend: ``sqlite_only`` tests when
    the suite runs on Postgres, ``postgres_only`` tests when it runs on SQLite."""
    other = "sqlite_only" if TEST_DATABASE_URL else "postgres_only"
    deselected = [item for item in items if item.get_closest_marker(other)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker(other)]


@pytest.fixture(autouse=True)
def _empty_test_database():
    """The Postgres test database is emptied when a test that used it ends."""
    yield
    if TEST_DATABASE_URL:
        postgres_databases.reset(TEST_DATABASE_URL)


@pytest.fixture
def app(tmp_path):
    return make_test_app(tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def owner(app) -> User:
    """An owner with a primary business and a second, non-primary one."""
    user = User.create_owner("owner@example.com", PASSWORD, "Shingle Roofing")
    Business.create(owner=user, name="Side Project", is_primary=False)
    return user


@pytest.fixture
def business(owner) -> Business:
    return Business.primary_for(owner)


class AuthActions:
    """Logs a test client in and fetches the CSRF token a real form would carry."""

    def __init__(self, client):
        self._client = client

    def login(self, email="owner@example.com", password=PASSWORD):
        return self._client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": self.csrf_token()},
        )

    def csrf_token(self) -> str:
        page = self._client.get("/login").get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def logged_in(client, auth, owner):
    """A client whose owner is logged in; returns the CSRF token for POSTs."""
    auth.login()
    return auth.csrf_token()


SUPPORT_EMAIL = "helper@shingleai.test"
SUPPORT_PASSWORD = "support staff password"


@pytest.fixture
def support_user(app) -> User:
    """A ShingleAI support account (no business)."""
    return User.create_support(SUPPORT_EMAIL, SUPPORT_PASSWORD)


@pytest.fixture
def support_client(app, support_user):
    """A second client, logged in as support; returns (client, CSRF token)."""
    client = app.test_client()
    actions = AuthActions(client)
    actions.login(email=SUPPORT_EMAIL, password=SUPPORT_PASSWORD)
    return client, actions.csrf_token()


def wait_until(condition, timeout: float = 20, message: str = "condition"):
    """Poll ``condition`` until it returns something truthy and return that; fail the
    test after ``timeout`` seconds. The short pause is the poll interval, not a wait
    for an event."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} still not met after {timeout} s")
        time.sleep(0.02)


def database_at(tmp_path, version: int) -> list[int]:
    """The shared database on a new SQLite file, migrated only up to ``version`` and
    holding owner 1 with primary business 1: where every upgrade test starts (upgrades
    are of SQLite deployments; Postgres ones start at the current schema). Returns the
    versions applied."""
    init_db(str(tmp_path / "old.sqlite3"))
    applied = migrate(db, target=version)
    db.execute_sql(
        "INSERT INTO user (id, email, password_hash, created_at)"
        " VALUES (1, 'o@example.com', 'x', '2026-01-01')"
    )
    db.execute_sql(
        "INSERT INTO business (id, owner_id, name, is_primary, created_at)"
        " VALUES (1, 1, 'Shop', 1, '2026-01-01')"
    )
    return applied


def make_customer(business, **fields) -> Customer:
    """A customer row with sensible defaults, for tests that need data."""
    fields.setdefault("name", "Ada Lovelace")
    fields.setdefault("email", "ada@example.com")
    fields.setdefault("customer_since", 1_700_000_000)
    return Customer.create(business=business, **fields)


class LiveServer:
    """The app served over real HTTP on a free port, in a background thread."""

    def __init__(self, app):
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    server = LiveServer(app).start()
    yield server
    server.stop()


# Chromium as root needs --no-sandbox; the network flags keep it from reaching out of
# this offline machine at start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def logged_in_page(page, live_server, owner):
    """A browser page logged in as the owner, on the Customers list."""
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/customers"))
    return page
