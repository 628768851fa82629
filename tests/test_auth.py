"""Login, logout, the login requirement on every dashboard page, and session safety."""

from __future__ import annotations

import pytest

from app import create_app
from tests.conftest import PASSWORD, make_customer

DASHBOARD = [
    "/customers",
    "/customers/{id}",
    "/customers/{id}/row",
    "/customers/{id}/edit",
    "/customers/changes",
]


@pytest.mark.parametrize("route", DASHBOARD)
def test_every_dashboard_page_needs_login(client, business, route):
    customer = make_customer(business)
    response = client.get(route.format(id=customer.id))
    assert response.status_code == 302 and "/login?next=" in response.location


def test_post_to_a_customer_needs_login(client, auth, business):
    customer = make_customer(business)
    token = auth.csrf_token()
    response = client.post(
        f"/customers/{customer.id}",
        data={"name": "X", "email": "x@example.com", "csrf_token": token},
    )
    assert response.status_code == 302 and "/login" in response.location


def test_login_then_list(client, auth, owner):
    response = auth.login()
    assert response.status_code == 302 and response.location.endswith("/customers")
    assert client.get("/customers").status_code == 200


@pytest.mark.parametrize(
    ("email", "password"),
    [("owner@example.com", "wrong password"), ("nobody@example.com", PASSWORD), ("", "")],
)
def test_wrong_credentials_are_refused(client, auth, owner, email, password):
    response = auth.login(email, password)
    assert response.status_code == 400
    assert "Enter your email" in response.get_data(as_text=True) or "do not match" in (
        response.get_data(as_text=True)
    )
    assert client.get("/customers").status_code == 302


def test_logout_ends_the_session(client, auth, logged_in):
    response = client.post("/logout", data={"csrf_token": logged_in})
    assert response.status_code == 302
    assert client.get("/customers").status_code == 302


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/customers?sync=synced", "/customers?sync=synced"),
        ("https://evil.example/steal", "/customers"),
        ("//evil.example/steal", "/customers"),
        ("javascript:alert(1)", "/customers"),
    ],
)
def test_next_goes_only_to_this_site(client, auth, owner, target, expected):
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "owner@example.com", "password": PASSWORD, "csrf_token": auth.csrf_token()},
    )
    assert response.status_code == 302 and response.location == expected


def test_session_cookie_is_httponly_and_lax(client, auth, owner):
    cookie = auth.login().headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_over_https(client, auth, owner):
    token = auth.csrf_token()
    response = client.post(
        "/login",
        base_url="https://localhost",
        data={"email": "owner@example.com", "password": PASSWORD, "csrf_token": token},
    )
    assert "Secure" in response.headers["Set-Cookie"]


def test_app_refuses_the_default_secret_key_outside_debug_or_demo(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DEMO", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}"})
    demo = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'b.sqlite3'}", "DEMO": True})
    assert demo.config["SECRET_KEY"]


def test_inside_a_flask_command_the_default_key_builds_an_app_that_serves_nothing(
    tmp_path, monkeypatch
):
    """``flask mcp`` builds the app without signing sessions; a page must still never
    be served with the public development key."""
    import click

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DEMO", raising=False)
    with click.Context(click.Command("mcp")):
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite3'}"})
    response = app.test_client().get("/login")
    assert response.status_code == 500
    assert "SECRET_KEY is the built-in development value" in response.get_data(as_text=True)
