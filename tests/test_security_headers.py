"""Security headers on every answer, and templates that a strict CSP can serve: no
inline script, no inline event handler, no hx-on, no eval'd trigger filter, no
inline style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from models.api_token import ApiToken
from tests.api_support import bearer
from tests.security_support import RULES, _is_api, _path, world_fixture  # noqa: F401

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


def _csp(response) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    return dict(part.strip().partition(" ")[::2] for part in policy.split(";") if part.strip())


def _assert_headers(response) -> None:
    csp = _csp(response)
    for directive, value in DIRECTIVES.items():
        assert csp.get(directive) == value, (directive, csp)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "rule", [pytest.param(r, id=f"{r.endpoint}:{r.rule}") for r in RULES if "GET" in r.methods]
)
def test_every_answer_carries_the_security_headers(app, client, logged_in, owner, world, rule):
    headers = bearer(ApiToken.issue(owner, world["own"].business, "t", "read_only")[1])
    response = client.get(_path(app, rule, world["own"].ids), headers=headers)
    _assert_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere"), ("POST", "/logout"), ("POST", "/webhooks/stripe")],
    ids=["404", "csrf-400", "webhook-400"],
)
def test_error_answers_carry_them_too(client, method, path):
    _assert_headers(client.open(path, method=method))


def test_hsts_over_https(client):
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_forms_may_post_here_and_to_stripe_connect_only(app, client):
    csp = _csp(client.get("/login"))
    assert csp["form-action"] == "'self' " + app.config["STRIPE_CONNECT_BASE"]


INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    "event handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "hx-on": re.compile(r"\shx-on[:-]", re.I),
    "trigger filter": re.compile(r"hx-trigger=\"[^\"]*\[", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_templates_hold_nothing_a_strict_csp_would_block(template):
    text = template.read_text()
    found = [name for name, pattern in INLINE.items() if pattern.search(text)]
    assert not found, found


def test_htmx_is_told_not_to_eval_or_inject_styles(client):
    page = client.get("/login").get_data(as_text=True)
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', page).group(1)
    assert '"includeIndicatorStyles": false' in config and '"allowEval": false' in config
