"""Helpers shared by the API, API token and MCP tests."""

from __future__ import annotations

from models import Business, User
from models.api_token import READ_WRITE, ApiToken


def issue_token(owner: User, business: Business, *, scope: str = READ_WRITE) -> str:
    """A new API token's secret, as the settings page would show it."""
    _token, secret = ApiToken.issue(owner, business, "Test agent", scope)
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
