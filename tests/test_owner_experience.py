"""Issue 11 on the server side: error pages in the layout (JSON under /api/), the
remembered time zone, one duplicate-email rule for the inline edit, a retry's own
elapsed time, no inline scripts, and migration 0012."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from werkzeug.exceptions import TooManyRequests

from models.db import db
from models.import_run import FAILED, ImportRun
from models.migrations import migrate
from models.user import User, utcnow
from tests.conftest import database_at, make_customer, make_test_app


@pytest.fixture
def app(tmp_path):
    app = make_test_app(tmp_path, PROPAGATE_EXCEPTIONS=False, MAX_CONTENT_LENGTH=1024)

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    @app.get("/busy")
    def busy():
        raise TooManyRequests()

    return app


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "title"),
    [
        ("post", "/stripe/connect", {}, 400, "Something in that request was not right"),
        ("get", "/no-such-page", {}, 404, "Page not found"),
        ("get", "/stripe/connect", {}, 405, "That action is not available here"),
        ("post", "/login", {"data": {"email": "x" * 4000}}, 413, "That was too large"),
        ("get", "/busy", {}, 429, "Too many requests"),
        ("get", "/boom", {}, 500, "Something went wrong on our side"),
    ],
    ids=["400", "404", "405", "413", "429", "500"],
)
def test_error_pages_use_the_layout(client, logged_in, method, path, kwargs, status, title):
    response = getattr(client, method)(path, **kwargs)
    html = response.get_data(as_text=True)
    assert response.status_code == status and response.mimetype == "text/html"
    assert f"<h1>{title}</h1>" in html
    assert 'aria-label="Main"' in html and "Log out" in html
    assert "kaboom" not in html


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("get", "/api/v1/nothing", 404), ("delete", "/api/v1/customers", 405)],
    ids=["404", "405"],
)
def test_api_errors_stay_json(client, method, path, status):
    response = getattr(client, method)(path)
    assert response.status_code == status and response.is_json
    assert set(response.json["error"]) >= {"code", "message"}


def test_the_time_zone_is_remembered(client, logged_in, owner):
    response = client.post(
        "/settings/time-zone",
        data={"time_zone": "Europe/Berlin"},
        headers={"X-CSRFToken": logged_in},
    )
    assert response.status_code == 204
    assert User.get_by_id(owner.id).time_zone == "Europe/Berlin"
    html = client.get("/customers").get_data(as_text=True)
    assert 'data-time-zone="Europe/Berlin"' in html


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "", "../../etc/passwd"], ids=["unknown", "empty", "path"]
)
def test_a_bad_time_zone_is_refused(client, logged_in, owner, zone):
    response = client.post(
        "/settings/time-zone", data={"time_zone": zone}, headers={"X-CSRFToken": logged_in}
    )
    assert response.status_code == 400
    assert User.get_by_id(owner.id).time_zone is None


def test_times_show_in_the_owner_zone_with_utc_in_the_title(client, logged_in, owner, business):
    User.update(time_zone="Asia/Tokyo").execute()
    make_customer(business, name="Late", customer_since=1_764_543_600)  # 2025-11-30 23:00Z
    html = client.get("/customers").get_data(as_text=True)
    assert (
        '<time datetime="2025-11-30T23:00:00Z" title="2025-11-30 23:00:00 UTC">Dec 1, 2025</time>'
    ) in html


def test_a_form_post_of_another_customers_email_is_a_409(client, logged_in, business):
    make_customer(business, name="Ada", email="ada@example.com")
    grace = make_customer(business, name="Grace", email="grace@example.com")
    response = client.post(
        f"/customers/{grace.id}",
        data={"name": "Grace", "email": "Ada@Example.com", "csrf_token": logged_in},
    )
    assert response.status_code == 409
    assert "Ada (ada@example.com) already has this email address" in response.get_data(as_text=True)


def test_keeping_ones_own_email_is_fine(client, logged_in, business):
    ada = make_customer(business, name="Ada", email="ada@example.com")
    response = client.post(
        f"/customers/{ada.id}",
        data={"name": "Ada L.", "email": "ada@example.com", "csrf_token": logged_in},
    )
    assert response.status_code == 302


def test_a_retry_counts_its_own_time(app, business):
    run = ImportRun.create(
        business=business,
        status=FAILED,
        started_at=utcnow() - timedelta(seconds=500),
        finished_at=utcnow() - timedelta(seconds=400),
    )
    assert run.elapsed_seconds == 100
    assert run.claim(from_status=FAILED)
    assert run.refresh().elapsed_seconds < 5


@pytest.mark.parametrize(
    "path",
    ["/login", "/customers", "/stripe", "/settings/api-tokens"],
    ids=["login", "customers", "stripe", "api-tokens"],
)
def test_no_inline_scripts_or_handlers(client, logged_in, business, path):
    html = client.get(path).get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+=|hx-on", html)


def test_migration_0012_adds_the_columns_and_keeps_rows(tmp_path):
    database_at(tmp_path, 8)
    db.execute_sql(
        "INSERT INTO stripe_account (business_id, account_id, livemode, status,"
        " connected_at) VALUES (1, 'acct_1', 0, 'connected', '2026-01-01')"
    )
    assert 12 in migrate(db)
    row = db.execute_sql(
        "SELECT account_id, account_name, disconnected_by FROM stripe_account"
    ).fetchone()
    assert row == ("acct_1", None, None)
    assert db.execute_sql("SELECT email, time_zone FROM user").fetchone() == ("o@example.com", None)
    db.execute_sql("SELECT account_name FROM connect_attempt")
