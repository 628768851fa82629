"""Route-wide security rules, checked over every rule of ``app.url_map`` so a route
added later is covered without anyone remembering to add a test: anonymous visitors
go to the login page, every state-changing request needs the CSRF token, rows of
another business answer 404, and no secret reaches a page or a log record.

(Cookie flags and the refusal of the default SECRET_KEY are in tests/test_auth.py.)"""

from __future__ import annotations

import logging

import pytest

from models import Business, Customer, User
from models.api_token import ApiToken
from models.import_run import ImportRun
from models.stripe_account import ConnectAttempt
from models.sync_check import SyncCheck
from models.webhook_event import WebhookEvent
from stripe_sandbox.testing import SandboxServer
from tests import test_connect_support as connect_steps
from tests.api_support import bearer
from tests.conftest import AuthActions, make_customer, make_test_app
from tests.security_support import (
    CSRF_EXEMPT,
    CSRF_REFUSAL,
    PUBLIC,
    RULES,
    WRITES,
    _is_api,
    _is_owner_page,
    _is_support,
    _params,
    _path,
    world_fixture,  # noqa: F401 (the ``world`` fixture)
)
from tests.test_api_tokens import secret_in
from tests.webhooks_support import deliver, make_event, stripe_customer


def _method(rule) -> str:
    return "GET" if "GET" in rule.methods else sorted(rule.methods & WRITES)[0]


@pytest.mark.parametrize("rule", _params(lambda r: r.endpoint not in PUBLIC and not _is_api(r)))
def test_anonymous_requests_end_on_the_login_page(app, client, world, rule):
    path = _path(app, rule, world["other"].ids)
    method = _method(rule)
    data = {"csrf_token": AuthActions(client).csrf_token()} if method != "GET" else None
    response = client.open(path, method=method, data=data, follow_redirects=True)
    assert response.status_code == 200 and response.request.path == "/login", path
    if method != "GET":  # a GET of the same path: 405, or a login-only page sharing it
        visit = client.get(path, follow_redirects=True)
        assert visit.status_code == 405 or visit.request.path == "/login", path


@pytest.mark.parametrize("rule", _params(lambda r: _is_api(r) and r.endpoint not in PUBLIC))
def test_api_refuses_a_session_cookie_without_a_bearer_token(app, client, logged_in, world, rule):
    path = _path(app, rule, world["own"].ids)
    response = client.open(path, method=_method(rule), json={}, headers={"X-CSRFToken": logged_in})
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "missing_token"


def test_only_the_webhook_and_the_bearer_api_skip_csrf(app):
    exempt = {
        rule.endpoint
        for rule in RULES
        if getattr(app.view_functions[rule.endpoint], "_csrf_exempt", False)
    }
    assert exempt == CSRF_EXEMPT


@pytest.mark.parametrize("sent", ["none", "wrong field", "wrong header"])
@pytest.mark.parametrize(
    "rule", _params(lambda r: r.methods & WRITES and r.endpoint not in CSRF_EXEMPT)
)
def test_every_write_needs_the_csrf_token(app, client, logged_in, world, rule, sent):
    path = _path(app, rule, world["own"].ids)
    data = {"csrf_token": logged_in[::-1]} if sent == "wrong field" else {}
    headers = {"X-CSRFToken": "wrong"} if sent == "wrong header" else {}
    for method in sorted(rule.methods & WRITES):
        response = client.open(path, method=method, data=data, headers=headers)
        assert response.status_code == 400, (method, path)
        assert CSRF_REFUSAL in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "rule", _params(lambda r: r.arguments and r.endpoint != "static" and not _is_support(r))
)
def test_rows_of_another_business_answer_404(app, client, logged_in, world, owner, rule):
    """The owner's own non-primary business is "another business" too: the dashboard
    shows the primary one only."""
    api = _is_api(rule)
    headers = (
        bearer(ApiToken.issue(owner, world["own"].business, "t", "read_write")[1]) if api else {}
    )
    if "GET" in rule.methods:
        own = client.get(_path(app, rule, world["own"].ids), headers=headers)
        assert own.status_code != 404, "the test's own row must be reachable"
    for whose in ("side", "other"):
        path = _path(app, rule, world[whose].ids)
        for method in sorted(rule.methods & (WRITES | {"GET"})):
            body = {"json": {"name": "Mallory"}} if api else {"data": {"csrf_token": logged_in}}
            response = client.open(path, method=method, headers=headers, **body)
            assert response.status_code == 404, (whose, method, path)
    assert not ApiToken.get_by_id(world["other"].ids["token_id"]).revoked_at
    assert not Customer.select().where(Customer.name == "Mallory").exists()


def _every_method(rule):
    return sorted(rule.methods & (WRITES | {"GET"}))


@pytest.mark.parametrize("rule", _params(_is_support))
def test_owners_get_404_on_every_support_route(app, client, logged_in, world, rule):
    """The console does not exist for owners: not even their own business's page."""
    path = _path(app, rule, world["own"].ids)
    for method in _every_method(rule):
        response = client.open(path, method=method, data={"csrf_token": logged_in})
        assert response.status_code == 404, (method, path)
    assert WebhookEvent.get_by_id(world["own"].ids["webhook_event_id"]).attempts == 1
    assert Customer.get_or_none(Customer.id == world["own"].ids["customer_id"])


@pytest.mark.parametrize("rule", _params(_is_owner_page))
def test_support_gets_404_on_every_owner_page(app, support_client, world, rule):
    """Support staff have no business; they see businesses only through the console."""
    client, csrf = support_client
    path = _path(app, rule, world["own"].ids)
    for method in _every_method(rule):
        response = client.open(path, method=method, data={"csrf_token": csrf})
        assert response.status_code == 404, (method, path)


@pytest.mark.parametrize("rule", _params(lambda r: _is_support(r) and "GET" in r.methods))
def test_support_reaches_every_console_page(app, support_client, world, rule):
    client, _ = support_client
    path = _path(app, rule, world["own"].ids)
    for hx in ({}, {"HX-Request": "true"}):
        response = client.get(path, headers=hx)
        assert response.status_code == 200, path


@pytest.mark.parametrize("rule", _params(lambda r: _is_support(r) and len(r.arguments) > 1))
def test_console_rows_must_belong_to_the_business_in_the_url(app, support_client, world, rule):
    """A customer or event of business B under business A's URL is not found, and an
    unknown business is not found either."""
    client, csrf = support_client
    mixed = {**world["other"].ids, "business_id": world["own"].business.id}
    unknown = {**world["own"].ids, "business_id": 999_999}
    for ids in (mixed, unknown):
        path = _path(app, rule, ids)
        for method in _every_method(rule):
            response = client.open(path, method=method, data={"csrf_token": csrf})
            assert response.status_code == 404, (method, path)
    assert WebhookEvent.get_by_id(world["other"].ids["webhook_event_id"]).attempts == 1


def _every_page(app, client, values: dict, api_secret: str) -> dict[str, str]:
    """Every GET page of the app as the logged-in owner sees it (the API with a token):
    its status line, headers and body as one text, by path."""
    seen = {}
    for rule in RULES:
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        path = _path(app, rule, values)
        headers = bearer(api_secret) if _is_api(rule) else {}
        for hx in ({}, {"HX-Request": "true"}):
            response = client.get(path, headers={**headers, **hx})
            seen[path] = f"{response.status} {response.headers}\n{response.get_data(as_text=True)}"
    return seen


def _logged(caplog) -> str:
    formatter = logging.Formatter("%(name)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


APP_SECRET = "app-secret-Q7ZK93-never-shown"
STRIPE_KEY = "sk_test_Q7ZK93neverShownPlatformKey"
WEBHOOK_SECRET = "whsec_Q7ZK93neverShownSigningSecret"


def test_no_secret_reaches_a_page_or_a_log_record(tmp_path, caplog):
    """Live-looking configuration (a real key, so no sandbox defaults), a whole Connect
    round trip with its import, webhooks good and forged, every page, a disconnect."""
    caplog.set_level(logging.DEBUG)
    sandbox = SandboxServer(
        api_key=STRIPE_KEY, client_id="ca_Q7ZK93", webhook_secret=WEBHOOK_SECRET
    ).start()
    try:
        app = make_test_app(
            tmp_path,
            SECRET_KEY=APP_SECRET,
            STRIPE_SECRET_KEY=STRIPE_KEY,
            STRIPE_CLIENT_ID="ca_Q7ZK93",
            STRIPE_WEBHOOK_SECRET=f"{WEBHOOK_SECRET},whsec_Q7ZK93older",
            STRIPE_API_BASE=sandbox.url,
            STRIPE_CONNECT_BASE=sandbox.url,
        )
        assert not app.config["STRIPE_SANDBOX"]
        pages = _connected_owner_walk(app, sandbox)
    finally:
        connect_steps.wait_until(connect_steps.imports_idle, timeout=60)
        sandbox.stop()
    logged = _logged(caplog)
    assert "acct_" in logged, "the walk must have logged something to check"
    for secret in (APP_SECRET, STRIPE_KEY, WEBHOOK_SECRET, "whsec_Q7ZK93older"):
        assert secret not in logged
        for path, text in pages.items():
            assert secret not in text, path


def _connected_owner_walk(app, sandbox) -> dict[str, str]:
    client = app.test_client()
    owner = User.create_owner("owner@example.com", "correct horse battery", "Shingle Roofing")
    auth = AuthActions(client)
    auth.login(password="correct horse battery")
    csrf = auth.csrf_token()
    account = sandbox.create_account(customers=3)
    assert connect_steps.connect(client, csrf, sandbox, account).status_code == 302
    connect_steps.wait_until(connect_steps.imports_idle, timeout=60)
    business = Business.primary_for(owner)
    event = make_event("customer.created", stripe_customer("cus_Q7ZK93"), account=account)
    assert deliver(client, event, secret=WEBHOOK_SECRET).status_code == 200
    assert deliver(client, event, secret="whsec_forged").status_code == 400
    pending = ConnectAttempt.create(
        business=business, state_hash="pending", account_id="acct_Q7ZK93other"
    )
    values = {
        "customer_id": make_customer(business).id,
        "run_id": ImportRun.latest_for(business).id,
        "check_id": SyncCheck.create(business=business, status="succeeded").id,
        "token_id": ApiToken.issue(owner, business, "agent", "read_write")[0].id,
        "attempt_id": pending.id,
        "business_id": business.id,
        "webhook_event_id": WebhookEvent.get(WebhookEvent.event_id == event["id"]).id,
    }
    api_secret = ApiToken.issue(owner, business, "walker", "read_write")[1]
    pages = _every_page(app, client, values, api_secret)
    # The support console shows the platform's configuration: never a secret of it.
    User.create_support("helper@example.com", "support staff password")
    support = app.test_client()
    AuthActions(support).login(email="helper@example.com", password="support staff password")
    for path, text in _every_page(app, support, values, api_secret).items():
        pages[f"support {path}"] = text
    assert "STRIPE_WEBHOOK_SECRET is set (2 secrets" in pages["support /support"]
    assert "Connected" in pages["/stripe"] and "200 OK" in pages[f"/stripe/switch/{pending.id}"]
    assert client.post("/stripe/disconnect", data={"csrf_token": csrf}).status_code == 302
    pages["/stripe disconnected"] = client.get("/stripe").get_data(as_text=True)
    return pages


def test_an_api_token_secret_shows_only_on_the_answer_that_created_it(
    app, client, logged_in, world, caplog
):
    caplog.set_level(logging.DEBUG)
    created = client.post(
        "/settings/api-tokens", data={"name": "CI", "scope": "read_write", "csrf_token": logged_in}
    )
    secret = secret_in(created.get_data(as_text=True))
    assert client.get("/api/v1/customers", headers=bearer(secret)).status_code == 200
    for path, text in _every_page(app, client, world["own"].ids, secret).items():
        assert secret not in text, path
    assert secret not in _logged(caplog)


def test_an_unknown_email_costs_the_same_password_hash_as_a_wrong_password(
    client, auth, owner, monkeypatch
):
    """Otherwise the login's answer time tells which emails have an account."""
    import hashlib

    real, calls = hashlib.scrypt, []
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))

    def hashes_for(email: str) -> int:
        calls.clear()
        assert auth.login(email=email, password="not the password").status_code == 400
        return len(calls)

    hashes_for("nobody@example.com")  # a decoy hash made once may be made here
    assert hashes_for("nobody@example.com") == hashes_for("owner@example.com") == 1


@pytest.mark.parametrize("rule", _params(lambda r: "GET" in r.methods and r.endpoint != "static"))
def test_no_page_can_be_framed_by_another_site(app, client, logged_in, world, rule):
    """A framed page would let another site trick a click on Disconnect or Revoke,
    which the CSRF token cannot stop."""
    response = client.get(_path(app, rule, world["own"].ids))
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", "")
