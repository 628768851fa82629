"""`create_sandbox_app(settings)`: the sandbox as one WSGI app, separate from the main app."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from stripe_sandbox import api, control, errors, oauth, page
from stripe_sandbox.context import KEY, Sandbox
from stripe_sandbox.faults import Faults
from stripe_sandbox.persistence import StateFile
from stripe_sandbox.settings import Settings
from stripe_sandbox.store import Store
from stripe_sandbox.webhooks import Dispatcher


def create_sandbox_app(settings: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the app; `settings` may be a `Settings`, a dict (extra keys are faults) or None."""
    settings = Settings.from_any(settings)
    if not settings.control_token:
        settings.control_token = secrets.token_urlsafe(24)
    faults = Faults(settings.faults)
    dispatcher = Dispatcher(faults)
    store = Store(settings, listener=dispatcher.enqueue)
    state = StateFile(settings.state_file, store) if settings.state_file else None
    app = Flask(__name__, template_folder="templates")
    app.extensions[KEY] = Sandbox(settings, faults, store, dispatcher, state)
    for blueprint in (api.bp, oauth.bp, control.bp, page.bp):
        app.register_blueprint(blueprint)
    app.register_error_handler(errors.StripeError, _stripe_error)
    app.register_error_handler(errors.OAuthError, _oauth_error)
    app.register_error_handler(HTTPException, _http_error)
    app.wsgi_app = api.held_answers(app.wsgi_app)
    return app


def _stripe_error(exc: errors.StripeError) -> Response:
    resp = jsonify(exc.payload())
    resp.status_code = exc.status
    resp.headers.update(exc.headers)
    return resp


def _oauth_error(exc: errors.OAuthError) -> Response:
    resp = jsonify(exc.payload())
    resp.status_code = exc.status
    return resp


def _http_error(exc: HTTPException) -> Response | HTTPException:
    """Unknown `/v1` URLs answer like Stripe; everything else keeps Flask's page."""
    if not request.path.startswith("/v1/") or exc.code not in (404, 405):
        return exc
    return _stripe_error(
        errors.StripeError(
            404,
            f"Unrecognized request URL ({request.method}: {request.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        )
    )
