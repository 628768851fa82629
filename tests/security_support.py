"""What the route-wide security tests share: every rule of the app's URL map, and one
row of every kind a URL can name for three businesses (the owner's primary, their
side business, another owner's)."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import url_for

from app import create_app
from models import Business, User
from models.api_token import ApiToken
from models.db import db, execute
from models.import_run import ImportRun
from models.stripe_account import ConnectAttempt, StripeAccount
from models.sync_check import SyncCheck
from models.webhook_event import WebhookEvent
from tests.conftest import make_customer

# Answer for an anonymous visitor other than "go and log in".
PUBLIC = {"static", "auth.login", "webhooks.receive", "api.openapi"}
# Authenticated by something other than the session cookie, hence no CSRF token.
CSRF_EXEMPT = {"webhooks.receive", "api.create_customer", "api.update_customer"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_REFUSAL = "did not come from this site"


def _rules():
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": "sqlite:///:memory:",
            "IMPORT_RESUME_ON_START": False,
        }
    )
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))


RULES = _rules()


def _params(predicate):
    return [
        pytest.param(rule, id=f"{rule.endpoint}:{rule.rule}") for rule in RULES if predicate(rule)
    ]


def _is_api(rule) -> bool:
    return rule.endpoint.startswith("api.")


def _is_support(rule) -> bool:
    return rule.endpoint.startswith("support.")


def _is_owner_page(rule) -> bool:
    """A dashboard page of an owner's business (not the console, API, login, logout
    or the start page, which sends each user to their own home)."""
    return not (
        rule.endpoint in PUBLIC | {"auth.logout", "index"} or _is_api(rule) or _is_support(rule)
    )


class Rows:
    """One row of every kind a URL can name, for a business, as ``url_for`` arguments."""

    def __init__(self, business: Business):
        self.business = business
        StripeAccount.create(business=business, account_id=f"acct_old{business.id}")
        attempt = ConnectAttempt.create(
            business=business, state_hash=f"h{business.id}", account_id=f"acct_new{business.id}"
        )
        self.ids = {
            # Deleted in Stripe, so even Remove's confirmation page can be reached.
            "customer_id": make_customer(
                business,
                email=f"c{business.id}@example.com",
                stripe_customer_id=f"cus_gone{business.id}",
                deleted_in_stripe_at=datetime(2026, 1, 1),
            ).id,
            "run_id": ImportRun.create(business=business, status="failed").id,
            "check_id": SyncCheck.create(business=business, status="succeeded").id,
            "token_id": ApiToken.issue(business.owner, business, "agent", "read_write")[0].id,
            "attempt_id": attempt.id,
            "business_id": business.id,
            "webhook_event_id": WebhookEvent.create(
                event_id=f"evt_{business.id}",
                type="customer.created",
                business=business,
                account_id=f"acct_old{business.id}",
                created=1,
                outcome="failed",
                payload="{}",
            ).id,
        }


@pytest.fixture(name="world")
def world_fixture(owner, business):
    """Rows of the owner's primary business, their side business, another owner's."""
    side = Business.get((Business.owner == owner) & (Business.is_primary == False))  # noqa: E712
    stranger = User.create_owner("stranger@example.com", "stranger password", "Rival Roofing")
    return {
        "own": Rows(business),
        "side": Rows(side),
        "other": Rows(Business.primary_for(stranger)),
    }


def _path(app, rule, ids: dict) -> str:
    """The rule's URL with ``ids`` for its arguments."""
    missing = rule.arguments - ids.keys() - {"filename"}
    assert not missing, f"teach Rows about {missing} of {rule.rule}"
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: ids.get(name, "app.css") for name in rule.arguments})


def database_snapshot() -> dict[str, list[str]]:
    """Every row of every table, on either backend: equal before and after a request
    means the request changed nothing."""
    return {
        table: sorted(repr(row) for row in execute(f'SELECT * FROM "{table}"').fetchall())
        for table in sorted(db.get_tables())
    }
