"""Security headers on every answer, static files and errors included.

The Content-Security-Policy allows script, style, images and fetches from this site
only: no inline script, no inline event handlers, no eval (htmx is told not to eval
and not to inject its indicator <style>; behaviour lives in static/app.js), and no
inline style attributes in templates, so ``style-src 'self'`` needs no exception.
Forms may post only here, plus Stripe's Connect origin: the Connect button's answer
redirects there, and browsers apply ``form-action`` to that redirect. No page may be
framed by another site (clickjacking defeats the CSRF token).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

HSTS = "max-age=31536000; includeSubDomains"


def policy(connect_base: str) -> str:
    """The Content-Security-Policy for an app whose Connect flow starts at ``connect_base``."""
    parts = urlsplit(connect_base or "https://connect.stripe.com")
    connect = f"{parts.scheme}://{parts.netloc}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            f"form-action 'self' {connect}",
            "frame-ancestors 'none'",
        ]
    )


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", current_app.config["CONTENT_SECURITY_POLICY"])
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    app.config["CONTENT_SECURITY_POLICY"] = policy(app.config["STRIPE_CONNECT_BASE"])
    app.after_request(_add_headers)
