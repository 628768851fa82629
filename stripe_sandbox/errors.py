"""Stripe's error bodies, raised as exceptions by the store and rendered by the blueprints.

The messages copy the wording Stripe's servers use, because client code (and the
`stripe` library's exception mapping) keys off status, `type`, `code` and `param`.
"""

from __future__ import annotations

from typing import Any

DOCS = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An API error: `{"error": {type, code, message, param, doc_url}}` with a status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.body: dict[str, Any] = {"message": message, "type": type}
        if code:
            self.body["code"] = code
            self.body["doc_url"] = DOCS + code.replace("_", "-")
        if param:
            self.body["param"] = param

    def payload(self) -> dict[str, Any]:
        return {"error": self.body}


class OAuthError(Exception):
    """A connect.stripe.com error: `{"error": code, "error_description": text}`."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def payload(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def redact(key: str) -> str:
    """Stripe echoes keys as their prefix, asterisks and the last four characters."""
    prefix = key[:8] if key.startswith(("sk_test_", "sk_live_")) else key[:3]
    return prefix + "*" * max(len(key) - len(prefix) - 4, 0) + key[-4:]


def no_such(kind: str, obj_id: str, param: str = "id") -> StripeError:
    return StripeError(404, f"No such {kind}: '{obj_id}'", code="resource_missing", param=param)


def invalid_key(key: str) -> StripeError:
    return StripeError(401, f"Invalid API Key provided: {redact(key)}")


def missing_key() -> StripeError:
    return StripeError(
        401,
        "You did not provide an API key. You need to provide your API key in the "
        "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
        "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
        "or we can help at https://support.stripe.com/.",
    )


def no_access(key: str, account: str) -> StripeError:
    return StripeError(
        403,
        f"The provided key '{redact(key)}' does not have access to account '{account}' "
        "(or that account does not exist). Application access may have been revoked.",
        code="account_invalid",
    )


def rate_limited(reason: str = "global-rate") -> StripeError:
    return StripeError(
        429,
        "Request rate limit exceeded. Learn more about rate limits here "
        "https://stripe.com/docs/rate-limits.",
        code="rate_limit",
        headers={"Stripe-Rate-Limited-Reason": reason},
    )


def server_error() -> StripeError:
    return StripeError(500, "An unknown error occurred", type="api_error")


def bad_param(param: str, message: str) -> StripeError:
    return StripeError(400, message, code="parameter_invalid_integer", param=param)


def unknown_param(param: str) -> StripeError:
    return StripeError(
        400, f"Received unknown parameter: {param}", code="parameter_unknown", param=param
    )
