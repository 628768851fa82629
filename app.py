"""ShingleAI Customers: the application factory.

``flask --app app run`` serves the dashboard; every setting comes from ``DEFAULTS``,
then the environment, then the ``config`` passed by tests.
"""

from __future__ import annotations

import os

import click
from flask import Flask, g, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface

from models import password_hashing
from models.db import db, init_db
from models.migrations import migrate, require_current
from sync import (  # noqa: F401  (tasks register on import; views import the rest)
    catch_up_jobs,
    import_jobs,
    jobs,
    sync_jobs,
)
from sync.importer import DEFAULTS as IMPORT_DEFAULTS
from sync.pacing import TokenBucket
from sync.sync_now import DEFAULTS as SYNC_DEFAULTS
from views import log_redaction, text_display, url_input
from views.auth import home_for
from views.rendering import htmx

DEFAULT_SECRET_KEY = "dev-only-not-secret"
SANDBOX_URL = "http://127.0.0.1:12111"

DEFAULTS = {
    "SECRET_KEY": DEFAULT_SECRET_KEY,
    "DATABASE_URL": "",  # empty: instance/shingleai.sqlite3
    "DEMO": False,
    "PUBLIC_URL": "",  # how Stripe and browsers reach us: OAuth redirect, webhook URL, API
    "TRUSTED_HOSTS": "",  # comma-separated Host header values accepted (Flask's TRUSTED_HOSTS)
    "STRIPE_SECRET_KEY": "",
    "STRIPE_CLIENT_ID": "",
    "STRIPE_WEBHOOK_SECRET": "",  # comma-separated during a secret roll
    "STRIPE_API_BASE": "",
    "STRIPE_CONNECT_BASE": "",
    "STRIPE_SANDBOX_URL": SANDBOX_URL,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",  # Strict would drop the session on the OAuth callback
    "SESSION_COOKIE_SECURE": False,  # also set per request when served over HTTPS
    "REDIS_URL": "",  # shared counters for the throttles of several processes; empty: memory
    # Failed logins allowed per window (limits' syntax), per account and per client address.
    "LOGIN_LIMIT_PER_ACCOUNT": "5/minute;20/hour",
    "LOGIN_LIMIT_PER_ADDRESS": "10/minute;100/hour",
    "IMPORT_RETRY_LIMIT": "3/minute;20/hour",  # "Retry import" per business
    "PASSWORD_HASH_CONCURRENCY": 2,  # password hashes at once per process; more get 429
    "STRIPE_RATE_LIMIT": "",  # requests/s; empty: Stripe's limit for the key (100 live, 25 test)
    "IMPORT_REQUEST_ATTEMPTS": TokenBucket.attempts,
    "IMPORT_BACKOFF": TokenBucket.backoff,  # seconds before the first retry; doubles
    # Empty: migrate on start in the embedded default, only check when scaled out
    # (REDIS_URL set), where `flask db upgrade` is the release step. 1/0 to force.
    "AUTO_MIGRATE": "",
    "LIST_TIME_LIMIT_MS": 300,  # a list or search query is stopped after this long
    **IMPORT_DEFAULTS,
    **SYNC_DEFAULTS,
    **jobs.DEFAULTS,
    **catch_up_jobs.DEFAULTS,
}

_BOOLEANS = {"DEMO", "SESSION_COOKIE_SECURE", "IMPORT_RESUME_ON_START"}


def auto_migrate(config) -> bool:
    """Whether this process migrates the schema on start (else it only checks it)."""
    value = str(config.get("AUTO_MIGRATE", "")).strip().lower()
    if value == "":
        return not config.get("REDIS_URL")
    return value in {"1", "true", "yes"}


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


def _refuse_unsafe_settings(app: Flask) -> None:
    """Settings that are fine on a laptop but dangerous once served: the built-in
    SECRET_KEY (anyone can forge a session with it, so debug mode does not excuse it)
    and URLs built from whatever Host header a client sends. A server (gunicorn, a
    direct create_app()) refuses to start. Inside a ``flask`` command the app may be
    built for work that never serves a page (``flask mcp`` acts with an API token): it
    starts, and refuses every request."""
    config = app.config
    local = config["DEMO"] or config.get("TESTING")
    problems = []
    if config["SECRET_KEY"] == DEFAULT_SECRET_KEY and not local:
        problems.append(
            "SECRET_KEY is the built-in development value: set SECRET_KEY to a long random "
            "string (or DEMO=1 to try the app locally)."
        )
    hosts = config["TRUSTED_HOSTS"]
    if isinstance(hosts, str):
        hosts = [host.strip() for host in hosts.split(",") if host.strip()]
    config["TRUSTED_HOSTS"] = hosts or None
    if not (config["PUBLIC_URL"] or hosts or local or app.debug):
        problems.append(
            "Set PUBLIC_URL (how browsers and Stripe reach the app, e.g. "
            "https://customers.example.com) or TRUSTED_HOSTS: otherwise the OAuth redirect "
            "and the webhook URL would follow any Host header a client sends."
        )
    if not problems:
        return
    if click.get_current_context(silent=True) is None:
        raise RuntimeError(" ".join(problems))

    @app.before_request
    def _refuse():
        return " ".join(problems), 500, {"Content-Type": "text/plain; charset=utf-8"}


class _SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def create_app(config: dict | None = None) -> Flask:
    """Build the app: configuration, database (migrated to the latest schema, or
    checked to be at it when scaled out), extensions, blueprints, the job queue."""
    log_redaction.install()
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config.update(_from_environment())
    app.config.update(config or {})
    _refuse_unsafe_settings(app)
    _resolve_stripe(app.config)
    app.session_interface = _SessionInterface()

    # An earlier app's jobs (tests build many apps in one process) stop before the
    # shared database is pointed elsewhere.
    jobs.stop_consumer()
    database_url = app.config["DATABASE_URL"] or os.path.join(
        app.instance_path, "shingleai.sqlite3"
    )
    init_db(database_url)
    with db.connection_context():
        if auto_migrate(app.config):
            migrate(db)
        else:
            require_current(db)

    @app.before_request
    def _connect() -> None:
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(_exc) -> None:
        if not db.is_closed():
            db.close()

    htmx.init_app(app)
    password_hashing.configure(app.config["PASSWORD_HASH_CONCURRENCY"])
    url_input.init_app(app)
    text_display.init_app(app)
    _register_views(app)
    # Lets the layout link to areas by endpoint name only once they exist.
    app.jinja_env.globals["view_names"] = app.view_functions

    @app.get("/")
    def index():
        return redirect(home_for(g.user) if g.user else url_for("customers.index"))

    jobs.init_app(app, database_url=database_url)
    return app


def _register_views(app: Flask) -> None:
    from views import (
        account,
        api,
        api_tokens,
        auth,
        body_limits,
        csrf,
        customers,
        demo,
        errors,
        imports,
        local_time,
        preferences,
        security_headers,
        stripe_connect,
        support,
        sync_now,
        throttle,
        webhooks,
    )

    # The owner is loaded first (reading no body), so even a refusal's error page shows
    # the navigation; oversized bodies are refused before CSRF reads the form.
    auth.init_app(app)
    body_limits.init_app(app)
    url_input.init_nul_check(app)
    csrf.init_app(app)
    security_headers.init_app(app)
    throttle.init_app(app)
    errors.init_app(app)
    local_time.init_app(app)
    for blueprint in (
        auth.bp,
        account.bp,
        customers.bp,
        stripe_connect.bp,
        imports.bp,
        webhooks.bp,
        api.bp,
        api_tokens.bp,
        preferences.bp,
        demo.bp,
        support.bp,
        sync_now.bp,
    ):
        app.register_blueprint(blueprint)
    for module in (stripe_connect, imports, webhooks, api, api_tokens):
        # An area that needs start-up work (resuming imports, say) defines init_app.
        if hasattr(module, "init_app"):
            module.init_app(app)
