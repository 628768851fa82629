"""Login throttling per account and per client address (failures only), and password
hashing that cannot starve other requests: at most PASSWORD_HASH_CONCURRENCY hashes
at once, the rest answered 429 at once."""

from __future__ import annotations

import hashlib
import re
import threading

import pytest
import requests

from tests.conftest import PASSWORD, AuthActions, wait_until


def _attempt(client, email: str, password: str, address: str):
    client.environ_base["REMOTE_ADDR"] = address
    return AuthActions(client).login(email=email, password=password)


def test_failed_logins_for_one_account_are_throttled_from_any_address(client, owner):
    for n in range(5):
        assert _attempt(client, "owner@example.com", "guess", f"10.0.0.{n}").status_code == 400
    refused = _attempt(client, "OWNER@example.com", PASSWORD, "10.0.1.1")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Too many failed logins for this account" in refused.get_data(as_text=True)
    assert client.get("/customers").status_code == 302


def test_failed_logins_from_one_address_are_throttled_across_accounts(client, owner):
    for n in range(10):
        assert _attempt(client, f"user{n}@example.com", "guess", "10.0.0.9").status_code == 400
    refused = _attempt(client, "owner@example.com", PASSWORD, "10.0.0.9")
    assert refused.status_code == 429
    assert "from your address" in refused.get_data(as_text=True)
    assert _attempt(client, "owner@example.com", PASSWORD, "10.0.0.10").status_code == 302


def test_successful_logins_are_never_throttled(app, owner):
    for _ in range(12):
        assert (
            _attempt(app.test_client(), "owner@example.com", PASSWORD, "10.0.0.1").status_code
            == 302
        )


def test_a_wrong_current_password_on_the_account_page_counts_as_a_failed_login(client, logged_in):
    for _ in range(5):
        wrong = client.post(
            "/settings/account/password",
            data={"current_password": "guess", "new_password": "x", "csrf_token": logged_in},
        )
        assert wrong.status_code == 400
    assert _attempt(client, "owner@example.com", PASSWORD, "10.0.3.3").status_code == 429


def _login_form(url: str) -> tuple[requests.Session, str]:
    browser = requests.Session()
    page = browser.get(f"{url}/login", timeout=10).text
    return browser, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def slow_hashes(monkeypatch):
    """Every password hash waits for ``release`` (counting those inside), so the test
    sees requests pile up exactly as under a flood of login attempts."""
    real, inside, release = hashlib.scrypt, [], threading.Event()

    def scrypt(*args, **kwargs):
        inside.append(1)
        release.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", scrypt)
    yield inside, release
    release.set()


def test_concurrent_logins_get_a_fast_429_instead_of_queueing(live_server, owner, slow_hashes):
    inside, release = slow_hashes
    forms = [_login_form(live_server.url) for _ in range(5)]
    answers: list[int] = []

    def attempt(browser, token):
        response = browser.post(
            f"{live_server.url}/login",
            data={"email": "owner@example.com", "password": "guess", "csrf_token": token},
            timeout=60,
        )
        answers.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=form) for form in forms]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(answers) == 3, timeout=15, message="three fast answers")
        assert answers == [429, 429, 429] and len(inside) == 2
        assert requests.get(f"{live_server.url}/login", timeout=10).status_code == 200
    finally:
        release.set()
        for thread in threads:
            thread.join()
    assert sorted(answers) == [400, 400, 429, 429, 429]


@pytest.fixture
def redis_url(tmp_path):
    """A private redis-server on a free port, as a scaled-out deployment would share."""
    import socket
    import subprocess

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )

    def accepts() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    wait_until(accepts, timeout=20)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=10)


def test_with_redis_two_processes_share_the_login_counters(tmp_path, redis_url):
    from models import User
    from tests.conftest import make_test_app

    first = make_test_app(tmp_path, REDIS_URL=redis_url, AUTO_MIGRATE="1")
    second = make_test_app(tmp_path, REDIS_URL=redis_url, AUTO_MIGRATE="1")
    User.create_owner("owner@example.com", PASSWORD, "Shingle Roofing")
    for n in range(5):
        attempt = _attempt(first.test_client(), "owner@example.com", "guess", f"10.0.0.{n}")
        assert attempt.status_code == 400
    assert (
        _attempt(second.test_client(), "owner@example.com", PASSWORD, "10.0.9.9").status_code == 429
    )
