"""Sessions end server-side: a copy of the session cookie taken before logout, a
password change or "Log out everywhere" opens nothing afterwards, and cannot create
an API token."""

from __future__ import annotations

import pytest

from models.api_token import ApiToken
from models.db import db
from models.login_session import LoginSession
from models.migrations import migrate
from tests.conftest import PASSWORD, AuthActions, database_at

NEW_PASSWORD = "a brand new unusual passphrase"


def _copy_of(client, app):
    """Another browser holding a copy of ``client``'s session cookie (a thief's)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _logged_in_browser(app, password=PASSWORD):
    browser = app.test_client()
    auth = AuthActions(browser)
    assert auth.login(password=password).status_code == 302
    return browser, auth.csrf_token()


def _is_logged_in(browser) -> bool:
    return browser.get("/customers").status_code == 200


def test_a_cookie_copied_before_logout_is_dead_after_it(app, client, logged_in):
    thief, token_thief = _copy_of(client, app), _copy_of(client, app)
    assert _is_logged_in(thief)
    assert client.post("/logout", data={"csrf_token": logged_in}).status_code == 302
    assert not _is_logged_in(thief)
    made = token_thief.post(
        "/settings/api-tokens",
        data={"name": "stolen", "scope": "read_write", "csrf_token": logged_in},
    )
    # Refused either way: its CSRF token died with the session (400), or it is sent to
    # log in (302); never a token.
    assert made.status_code == 400 or (made.status_code == 302 and "/login" in made.location)
    assert ApiToken.select().count() == 0


def test_logout_ends_only_this_browsers_session(app, owner):
    laptop, laptop_csrf = _logged_in_browser(app)
    phone, _ = _logged_in_browser(app)
    laptop.post("/logout", data={"csrf_token": laptop_csrf})
    assert not _is_logged_in(laptop) and _is_logged_in(phone)


def test_a_password_change_ends_every_other_session(app, owner):
    laptop, csrf = _logged_in_browser(app)
    phone, _ = _logged_in_browser(app)
    thief = _copy_of(laptop, app)
    response = laptop.post(
        "/settings/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
            "csrf_token": csrf,
        },
        follow_redirects=True,
    )
    assert "1 other sessions were logged out" in response.get_data(as_text=True)
    assert _is_logged_in(laptop)
    assert not _is_logged_in(phone) and not _is_logged_in(thief)
    assert owner.__class__.by_email("owner@example.com").check_password(NEW_PASSWORD)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "complaint"),
    [
        ("wrong password", NEW_PASSWORD, NEW_PASSWORD, "not your current password"),
        (PASSWORD, "12345678", "12345678", "at least 12"),
        (PASSWORD, "password1234", "password1234", "most common"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "differ"),
    ],
    ids=["wrong-current", "short", "common", "mismatch"],
)
def test_a_refused_password_change_changes_nothing(
    app, client, logged_in, owner, current, new, confirm, complaint
):
    phone, _ = _logged_in_browser(app)
    response = client.post(
        "/settings/account/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": confirm,
            "csrf_token": logged_in,
        },
    )
    assert response.status_code == 400 and complaint in response.get_data(as_text=True)
    assert owner.__class__.by_email("owner@example.com").check_password(PASSWORD)
    assert _is_logged_in(phone) and _is_logged_in(client)


def test_log_out_everywhere_ends_every_session(app, owner):
    laptop, csrf = _logged_in_browser(app)
    phone, _ = _logged_in_browser(app)
    thief = _copy_of(phone, app)
    page = laptop.get("/settings/account").get_data(as_text=True)
    assert "Log out everywhere" in page
    response = laptop.post("/settings/account/logout-everywhere", data={"csrf_token": csrf})
    assert response.status_code == 302 and response.location.endswith("/login")
    assert not any(_is_logged_in(b) for b in (laptop, phone, thief))
    assert LoginSession.select().count() == 0


def test_an_expired_session_is_refused(app, client, logged_in):
    LoginSession.update(expires_at=LoginSession.created_at).execute()
    assert not _is_logged_in(client)


def test_only_a_hash_of_the_session_secret_is_stored(app, client, logged_in):
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    secret = serializer.loads(client.get_cookie("session").value)["login"]
    stored = LoginSession.get()
    assert secret not in (stored.token_hash, str(stored.id))


def test_0009_adds_login_sessions_to_an_existing_database(tmp_path):
    database_at(tmp_path, 8)
    assert 9 in migrate(db)
    from models import User

    user = User.get_by_id(1)
    assert LoginSession.user_for(LoginSession.begin(user)) == user
