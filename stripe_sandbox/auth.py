"""Platform-key authentication shared by the API and the OAuth endpoints."""

from __future__ import annotations

import base64

from flask import Request

from stripe_sandbox import errors


def platform_key(request: Request, expected: str) -> str:
    """The caller's secret key if it is the platform's; 401 like Stripe otherwise.

    Bearer is what the library sends; Basic (`curl -u sk_test_…:`) and OAuth's
    `client_secret` form field are accepted too, as Stripe does.
    """
    header = request.headers.get("Authorization", "")
    key = ""
    if header.startswith("Bearer "):
        key = header[7:].strip()
    elif header.startswith("Basic "):
        try:
            key = base64.b64decode(header[6:]).decode().partition(":")[0]
        except ValueError:
            key = ""
    key = key or request.form.get("client_secret", "")
    if not key:
        raise errors.missing_key()
    if key != expected:
        raise errors.invalid_key(key)
    return key
