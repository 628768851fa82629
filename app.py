"""ShingleAI Customers: the application factory.

``flask --app app run`` serves the dashboard; every setting comes from ``DEFAULTS``,
then the environment, then the ``config`` passed by tests.
"""

from __future__ import annotations

import os

from flask import Flask, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface

from models.db import db, init_db
from models.migrations import migrate
from sync.importer import DEFAULTS as IMPORT_DEFAULTS
from sync.pacing import TokenBucket
from views import text_display, url_input
from views.rendering import htmx

DEFAULT_SECRET_KEY = "dev-only-not-secret"
SANDBOX_URL = "http://127.0.0.1:12111"

DEFAULTS = {
    "SECRET_KEY": DEFAULT_SECRET_KEY,
    "DATABASE_URL": "",  # empty: instance/shingleai.sqlite3
    "DEMO": False,
    "PUBLIC_URL": "",  # how Stripe reaches us, for the webhook URL shown to the owner
    "STRIPE_SECRET_KEY": "",
    "STRIPE_CLIENT_ID": "",
    "STRIPE_WEBHOOK_SECRET": "",  # comma-separated during a secret roll
    "STRIPE_API_BASE": "",
    "STRIPE_CONNECT_BASE": "",
    "STRIPE_SANDBOX_URL": SANDBOX_URL,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",  # Strict would drop the session on the OAuth callback
    "SESSION_COOKIE_SECURE": False,  # also set per request when served over HTTPS
    "STRIPE_RATE_LIMIT": "",  # requests/s; empty: Stripe's limit for the key (100 live, 25 test)
    "IMPORT_REQUEST_ATTEMPTS": TokenBucket.attempts,
    "IMPORT_BACKOFF": TokenBucket.backoff,  # seconds before the first retry; doubles
    "LIST_TIME_LIMIT_MS": 300,  # a list or search query is stopped after this long
    **IMPORT_DEFAULTS,
}

_BOOLEANS = {"DEMO", "SESSION_COOKIE_SECURE", "IMPORT_RESUME_ON_START"}


def _from_environment() -> dict:
    """Every DEFAULTS key can be set by an environment variable of the same name."""
    found = {}
    for key in DEFAULTS:
        if key in os.environ:
            value = os.environ[key]
            found[key] = value.lower() in {"1", "true", "yes"} if key in _BOOLEANS else value
    return found


def _resolve_stripe(config: dict) -> None:
    """With no Stripe key configured, point at the local sandbox with its well-known
    test credentials, and mark every page so nobody mistakes it for live Stripe."""
    config["STRIPE_SANDBOX"] = not config["STRIPE_SECRET_KEY"]
    if config["STRIPE_SANDBOX"]:
        config["STRIPE_SECRET_KEY"] = "sk_test_sandbox"
        config["STRIPE_CLIENT_ID"] = config["STRIPE_CLIENT_ID"] or "ca_sandbox"
        config["STRIPE_WEBHOOK_SECRET"] = config["STRIPE_WEBHOOK_SECRET"] or "whsec_sandbox"
        config["STRIPE_API_BASE"] = config["STRIPE_API_BASE"] or config["STRIPE_SANDBOX_URL"]
        config["STRIPE_CONNECT_BASE"] = (
            config["STRIPE_CONNECT_BASE"] or config["STRIPE_SANDBOX_URL"]
        )
        return
    missing = [key for key in ("STRIPE_CLIENT_ID", "STRIPE_WEBHOOK_SECRET") if not config[key]]
    if missing:
        raise RuntimeError(
            "STRIPE_SECRET_KEY is set but " + " and ".join(missing) + " are not: set them "
            "too, or unset STRIPE_SECRET_KEY to use the local Stripe sandbox."
        )


class _SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def create_app(config: dict | None = None) -> Flask:
    """Build the app: configuration, database (migrated to the latest schema),
    extensions, blueprints."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config.update(_from_environment())
    app.config.update(config or {})
    if app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY and not (app.debug or app.config["DEMO"]):
        raise RuntimeError(
            "SECRET_KEY is the built-in development value: set SECRET_KEY to a long random "
            "string (or DEMO=1 to try the app locally)."
        )
    _resolve_stripe(app.config)
    app.session_interface = _SessionInterface()

    database_url = app.config["DATABASE_URL"] or os.path.join(
        app.instance_path, "shingleai.sqlite3"
    )
    init_db(database_url)
    with db.connection_context():
        migrate(db)

    @app.before_request
    def _connect() -> None:
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(_exc) -> None:
        if not db.is_closed():
            db.close()

    htmx.init_app(app)
    url_input.init_app(app)
    text_display.init_app(app)
    _register_views(app)
    # Lets the layout link to areas by endpoint name only once they exist.
    app.jinja_env.globals["view_names"] = app.view_functions

    @app.get("/")
    def index():
        return redirect(url_for("customers.index"))

    return app


def _register_views(app: Flask) -> None:
    from views import (
        api,
        api_tokens,
        auth,
        csrf,
        customers,
        demo,
        imports,
        stripe_connect,
        webhooks,
    )

    csrf.init_app(app)
    auth.init_app(app)
    for blueprint in (
        auth.bp,
        customers.bp,
        stripe_connect.bp,
        imports.bp,
        webhooks.bp,
        api.bp,
        api_tokens.bp,
        demo.bp,
    ):
        app.register_blueprint(blueprint)
    for module in (stripe_connect, imports, webhooks, api, api_tokens):
        # An area that needs start-up work (resuming imports, say) defines init_app.
        if hasattr(module, "init_app"):
            module.init_app(app)
