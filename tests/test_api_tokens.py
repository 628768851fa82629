"""The API tokens settings page: create (shown once, stored hashed), list, revoke;
login and CSRF required; htmx fragments and plain forms both work."""

from __future__ import annotations

import hashlib
import re

import pytest

from models import Business, User
from models.api_token import READ_ONLY, ApiToken
from tests.api_support import bearer
from tests.conftest import PASSWORD

PAGE = "/settings/api-tokens"
HTMX = {"HX-Request": "true"}


def secret_in(html: str) -> str:
    return re.search(r'id="new-token-secret"[^>]*value="(shai_[^"]+)"', html).group(1)


def test_login_required(client, owner):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.post(PAGE, data={"name": "x"}).status_code in {302, 400}
    assert ApiToken.select().count() == 0


def test_page_lists_nothing_at_first(client, logged_in):
    html = client.get(PAGE).get_data(as_text=True)
    assert "No tokens yet." in html
    assert 'name="csrf_token"' in html


def test_create_shows_the_secret_once_and_stores_only_its_hash(client, logged_in, business):
    response = client.post(
        PAGE, data={"name": "Support agent", "scope": "read_write", "csrf_token": logged_in}
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    secret = secret_in(response.get_data(as_text=True))
    token = ApiToken.get()
    assert token.business_id == business.id and token.name == "Support agent"
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix) and len(secret) > 40
    assert secret not in [token.prefix, token.token_hash, token.name]
    page = client.get(PAGE).get_data(as_text=True)
    assert secret not in page
    assert token.prefix in page and "Support agent" in page and "Never" in page
    assert client.get("/api/v1/customers", headers=bearer(secret)).status_code == 200
    assert "Never" not in client.get(PAGE).get_data(as_text=True)


def test_create_with_htmx_answers_the_panel_fragment(client, logged_in):
    response = client.post(
        PAGE,
        data={"name": "Agent", "scope": "read_only", "csrf_token": logged_in},
        headers=HTMX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 201
    assert html.lstrip().startswith('<div id="api-tokens">')
    assert "<html" not in html
    assert "HX-Request" in response.headers["Vary"]
    assert secret_in(html)
    assert ApiToken.get().scope == READ_ONLY


@pytest.mark.parametrize(
    "data, field_text",
    [
        ({"name": "", "scope": "read_write"}, "Give the token a name"),
        ({"name": "x" * 101, "scope": "read_write"}, "at most 100"),
        ({"name": "ok", "scope": "admin"}, "Choose read and write, or read only."),
    ],
)
def test_bad_input_is_shown_inline(client, logged_in, data, field_text):
    response = client.post(PAGE, data={**data, "csrf_token": logged_in})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_text in html and "new-token-secret" not in html
    fragment = client.post(PAGE, data={**data, "csrf_token": logged_in}, headers=HTMX)
    assert fragment.status_code == 200 and field_text in fragment.get_data(as_text=True)
    assert ApiToken.select().count() == 0


def test_posts_need_the_csrf_token(client, logged_in, owner, business):
    assert client.post(PAGE, data={"name": "x", "scope": "read_write"}).status_code == 400
    token, _secret = ApiToken.issue(owner, business, "kept")
    assert client.post(f"{PAGE}/{token.id}/revoke").status_code == 400
    assert ApiToken.select().count() == 1 and not ApiToken.get().is_revoked


def test_revoke_without_javascript_redirects_and_the_token_stops_working(
    client, logged_in, owner, business
):
    token, secret = ApiToken.issue(owner, business, "CI job")
    response = client.post(f"{PAGE}/{token.id}/revoke", data={"csrf_token": logged_in})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(PAGE)
    html = client.get(PAGE).get_data(as_text=True)
    assert "Revoked the token “CI job”." in html and "Revoked</span>" in html
    assert client.get("/api/v1/customers", headers=bearer(secret)).status_code == 401


def test_revoke_with_htmx_answers_the_fragment(client, logged_in, owner, business):
    token, _secret = ApiToken.issue(owner, business, "CI job")
    response = client.post(f"{PAGE}/{token.id}/revoke", headers={**HTMX, "X-CSRFToken": logged_in})
    assert response.status_code == 200
    assert "Revoked the token “CI job”." in response.get_data(as_text=True)
    assert ApiToken.get_by_id(token.id).is_revoked


def test_tokens_of_other_businesses_are_not_listed_or_revocable(client, logged_in, owner):
    stranger = User.create_owner("other@example.com", PASSWORD, "Other Co")
    theirs, _ = ApiToken.issue(stranger, Business.primary_for(stranger), "Their token")
    side, _ = ApiToken.issue(owner, Business.get(Business.name == "Side Project"), "Side token")
    html = client.get(PAGE).get_data(as_text=True)
    assert "Their token" not in html and "Side token" not in html
    for token in (theirs, side):
        response = client.post(f"{PAGE}/{token.id}/revoke", data={"csrf_token": logged_in})
        assert response.status_code == 404
        assert not ApiToken.get_by_id(token.id).is_revoked


def test_nav_links_to_the_page(client, logged_in):
    assert f'href="{PAGE}"' in client.get("/customers").get_data(as_text=True)
