"""Connect configuration at start-up, and migration 0004 on a database with data."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from app import create_app
from models import User
from models.db import db
from models.migrations import migrate
from models.stripe_account import ConnectAttempt, StripeAccount
from tests.conftest import PASSWORD, AuthActions, database_at

LIVE = {"TESTING": True, "SECRET_KEY": "k", "STRIPE_SECRET_KEY": "sk_live_platform"}


@pytest.mark.parametrize(
    "extra, missing",
    [
        ({}, "STRIPE_CLIENT_ID and STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_CLIENT_ID": "ca_live"}, "STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_WEBHOOK_SECRET": "whsec_live"}, "STRIPE_CLIENT_ID"),
    ],
)
def test_a_half_configured_live_setup_stops_start_up(tmp_path, extra, missing):
    config = LIVE | extra | {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    with pytest.raises(RuntimeError, match=f"but {missing} (is|are) not"):
        create_app(config)


def test_a_live_setup_sends_owners_to_connect_stripe_com(tmp_path):
    app = create_app(
        LIVE
        | {
            "STRIPE_CLIENT_ID": "ca_live",
            "STRIPE_WEBHOOK_SECRET": "whsec_live",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite3'}",
        }
    )
    assert app.config["STRIPE_SANDBOX"] is False
    User.create_owner("owner@example.com", PASSWORD, "Live shop")
    live = app.test_client()
    auth = AuthActions(live)
    auth.login()
    token = auth.csrf_token()
    page = live.get("/stripe").get_data(as_text=True)
    assert "local Stripe sandbox" not in page
    location = urlsplit(live.post("/stripe/connect", data={"csrf_token": token}).location)
    assert (location.netloc, location.path) == ("connect.stripe.com", "/oauth/authorize")
    assert "client_id=ca_live" in location.query and "sk_live" not in location.query


def test_migration_0004_keeps_existing_links(tmp_path):
    database_at(tmp_path, 3)
    with db.connection_context():
        db.execute_sql(
            "INSERT INTO stripe_account (business_id, account_id, status, connected_at)"
            " VALUES (1, 'acct_old', 'connected', '2026-01-02 00:00:00')"
        )
        assert migrate(db, target=4) == [4]
        migrate(db)  # the model is the latest schema's
        link = StripeAccount.get()
        assert (link.account_id, link.is_connected) == ("acct_old", True)
        state = ConnectAttempt.start(link.business)
        assert ConnectAttempt.select().count() == 1 and state
