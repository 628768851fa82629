"""Start-up refusals and the Host header: the built-in SECRET_KEY is refused under any
server unless it is the demo or a test (debug mode is no excuse), and outside debug,
the demo and tests the app needs PUBLIC_URL or TRUSTED_HOSTS, so no URL it hands out
follows a forged Host header."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from app import DEFAULT_SECRET_KEY, create_app
from tests.test_connect_support import start

ROOT = Path(__file__).resolve().parent.parent
EVIL = {"Host": "evil.test"}


def _create(tmp_path, **config):
    return create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}", **config})


@pytest.fixture
def clean_env(monkeypatch):
    for key in ("SECRET_KEY", "DEMO", "PUBLIC_URL", "TRUSTED_HOSTS", "FLASK_DEBUG"):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def test_debug_mode_does_not_excuse_the_built_in_secret_key(tmp_path, clean_env):
    clean_env.setenv("FLASK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        _create(tmp_path, PUBLIC_URL="https://x.test")


def test_gunicorn_settings_refuse_the_built_in_secret_key(clean_env):
    clean_env.setenv("SECRET_KEY", DEFAULT_SECRET_KEY)
    clean_env.setenv("DEMO", "1")
    with pytest.raises(SystemExit, match="SECRET_KEY"):
        runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_in_debug_mode_will_not_serve_with_the_built_in_secret_key(tmp_path):
    env = {
        "PATH": str(Path(sys.executable).parent),
        "SECRET_KEY": DEFAULT_SECRET_KEY,
        "FLASK_DEBUG": "1",
        "PUBLIC_URL": "http://127.0.0.1",
        "DATABASE_URL": str(tmp_path / "g.sqlite3"),
        "BIND": "127.0.0.1:0",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    done = subprocess.run(
        [str(gunicorn), "-c", "gunicorn.conf.py", "app:create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr


@pytest.mark.parametrize("debug", ["0", "1"], ids=["plain", "FLASK_DEBUG"])
def test_a_cookie_forged_with_the_built_in_key_is_never_accepted(tmp_path, clean_env, debug):
    clean_env.setenv("FLASK_DEBUG", debug)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        _create(tmp_path, SECRET_KEY=DEFAULT_SECRET_KEY, TRUSTED_HOSTS="x.test")


def test_the_app_will_not_start_without_public_url_or_trusted_hosts(tmp_path, clean_env):
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        _create(tmp_path, SECRET_KEY="k" * 32)


@pytest.mark.parametrize(
    "setting", [{"PUBLIC_URL": "https://shingle.example"}, {"TRUSTED_HOSTS": "shingle.example"}]
)
def test_public_url_or_trusted_hosts_let_it_start(tmp_path, clean_env, setting):
    assert _create(tmp_path, SECRET_KEY="k" * 32, **setting)


def test_an_untrusted_host_header_is_refused(tmp_path, clean_env):
    app = _create(tmp_path, SECRET_KEY="k" * 32, TRUSTED_HOSTS="shingle.example, localhost")
    client = app.test_client()
    assert client.get("/login", headers=EVIL).status_code == 400
    assert client.get("/login", headers={"Host": "shingle.example"}).status_code == 200


@pytest.fixture
def public_app(tmp_path, clean_env):
    return _create(
        tmp_path, TESTING=True, SECRET_KEY="k" * 32, PUBLIC_URL="https://shingle.example/"
    )


def test_the_openapi_server_url_ignores_the_host_header(public_app):
    document = public_app.test_client().get("/api/v1/openapi.json", headers=EVIL).get_json()
    assert [server["url"] for server in document["servers"]] == ["https://shingle.example/api/v1"]


def test_the_oauth_redirect_and_the_webhook_url_ignore_the_host_header(public_app):
    from models import User
    from tests.conftest import PASSWORD, AuthActions

    User.create_owner("owner@example.com", PASSWORD, "Shingle Roofing")
    client = public_app.test_client()
    auth = AuthActions(client)
    auth.login()
    csrf = auth.csrf_token()
    client.environ_base["HTTP_HOST"] = "evil.test"
    assert start(client, csrf)["redirect_uri"] == "https://shingle.example/stripe/callback"
    assert "evil.test" not in client.get("/stripe").get_data(as_text=True)
    # The webhook URL to configure is shown to support staff, in the console.
    User.create_support("support@shingleai.test", PASSWORD)
    staff = public_app.test_client()
    AuthActions(staff).login(email="support@shingleai.test")
    staff.environ_base["HTTP_HOST"] = "evil.test"
    console = staff.get("/support").get_data(as_text=True)
    assert "https://shingle.example/webhooks/stripe" in console and "evil.test" not in console
