"""Every route of ``app.url_map`` under every HTTP method, as a logged-in owner with
no CSRF token: a method a route does not serve answers 405, a safe method (GET, HEAD,
OPTIONS) changes nothing, and a write without the token is refused. HEAD once carried
out an account switch because the view treated "not GET" as an answer."""

from __future__ import annotations

import pytest

from tests.security_support import (
    CSRF_EXEMPT,
    CSRF_REFUSAL,
    RULES,
    _path,
    database_snapshot,
    world_fixture,  # noqa: F401 (the ``world`` fixture)
)

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
SAFE = {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "rule",
    [pytest.param(r, id=f"{r.endpoint}:{r.rule}") for r in RULES if r.endpoint != "static"],
)
def test_no_method_changes_anything_without_the_csrf_token(
    app, client, logged_in, world, rule, method
):
    path = _path(app, rule, world["own"].ids)
    urls = app.url_map.bind("localhost")
    allowed = urls.allowed_methods(path)
    endpoint = urls.match(path, method)[0] if method in allowed else None
    before = database_snapshot()
    response = client.open(path, method=method)
    assert response.status_code < 500, response.get_data(as_text=True)
    assert database_snapshot() == before, f"{method} {path} changed the database"
    if method not in allowed:
        assert response.status_code == 405
    elif method == "HEAD":
        assert response.status_code == client.get(path).status_code
    elif method not in SAFE and endpoint not in CSRF_EXEMPT:
        assert response.status_code == 400
        assert CSRF_REFUSAL in response.get_data(as_text=True)
    elif method not in SAFE:  # the webhook (no signature) and the API (no bearer token)
        assert response.status_code in (400, 401)


def test_head_on_a_pending_switch_neither_switches_nor_declines(app, client, logged_in, world):
    attempt_id = world["own"].ids["attempt_id"]
    assert client.head(f"/stripe/switch/{attempt_id}").status_code == 200
    page = client.get(f"/stripe/switch/{attempt_id}")
    assert page.status_code == 200 and "Switch to" in page.get_data(as_text=True)


def test_a_switch_answer_must_name_a_decision(app, client, logged_in, world):
    attempt_id = world["own"].ids["attempt_id"]
    response = client.post(f"/stripe/switch/{attempt_id}", data={"csrf_token": logged_in})
    assert response.status_code == 400
    assert client.get(f"/stripe/switch/{attempt_id}").status_code == 200
