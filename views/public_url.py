"""Absolute URLs of this app, as browsers and Stripe reach it.

``PUBLIC_URL`` when set; otherwise the request's own host, which create_app allows
only in debug, the demo and tests, or when ``TRUSTED_HOSTS`` limits what a client may
send as its Host header. The OAuth redirect_uri, the webhook URL shown to the owner
and the OpenAPI server URL all come from here, so a forged Host can change none.
"""

from __future__ import annotations

from flask import current_app, request


def public_url(path: str) -> str:
    """``path`` (as ``url_for`` gives it, script root included) made absolute."""
    base = current_app.config.get("PUBLIC_URL", "").rstrip("/") or request.host_url.rstrip("/")
    return base + path
