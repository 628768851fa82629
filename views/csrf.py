"""CSRF protection for every state-changing request.

The token lives in the signed session; forms send it as ``csrf_token`` and htmx
sends it in the ``X-CSRFToken`` header (set once on ``<body hx-headers>``). Views that
authenticate by other means (the signed Stripe webhook, bearer-token API) opt out
with ``exempt``. (No page may be framed by another site: views/security_headers.py.)
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, current_app, request, session

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
_EXEMPT_ATTR = "_csrf_exempt"


def csrf_token() -> str:
    """The session's token, created on first use."""
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    return session["csrf_token"]


def exempt(view):
    """Mark a view (or every view of a blueprint, via its ``before_request``) as
    authenticated by something other than the session cookie."""
    setattr(view, _EXEMPT_ATTR, True)
    return view


def _check() -> None:
    if request.method in _SAFE_METHODS:
        return
    view = current_app.view_functions.get(request.endpoint)
    if view is None or getattr(view, _EXEMPT_ATTR, False):
        return
    sent = request.headers.get("X-CSRFToken") or request.form.get("csrf_token", "")
    expected = session.get("csrf_token")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, "This form has expired or did not come from this site. Reload the page.")


def init_app(app: Flask) -> None:
    app.before_request(_check)
    app.jinja_env.globals["csrf_token"] = csrf_token
