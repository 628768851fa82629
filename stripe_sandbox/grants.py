"""Connect OAuth grant rules over the store: codes, their exchange, refresh, deauthorize.

Codes are single use and short lived; using one twice revokes the connection, exactly
as Stripe does, because that is the failure a double-submitted callback causes.
"""

from __future__ import annotations

import time
from typing import Any

from stripe_sandbox import errors, objects
from stripe_sandbox.store import Store


def issue_code(store: Store, account_id: str | None, *, name: str = "", customers: int = 0) -> str:
    """What clicking "Connect" does: a fresh single-use code (new account if none)."""
    if account_id is None:
        account_id = store.create_account(
            name or "New account", connected=False, customers=customers
        ).id
    with store.lock:
        store.account(account_id)
        code = objects.new_id("ac_", 32)
        store.codes[code] = {"account": account_id, "at": time.time(), "used": False}
        store._changed()
        return code


def exchange_code(store: Store, code: str, ttl_s: float) -> dict[str, Any]:
    with store.lock:
        grant = store.codes.get(code)
        if grant is None:
            raise errors.OAuthError("invalid_grant", f"Authorization code does not exist: {code}")
        if grant["used"]:
            # Stripe: consuming a code more than once revokes the account connection.
            store.revoke(grant["account"])
            raise errors.OAuthError(
                "invalid_grant",
                "This authorization code has already been used. "
                "All tokens issued with this code have been revoked.",
            )
        grant["used"] = True
        store._changed()
        if time.time() - grant["at"] > ttl_s:
            raise errors.OAuthError("invalid_grant", f"Authorization code expired: {code}")
        store.accounts[grant["account"]].connected = True
        store.accounts[grant["account"]].authorized_at = time.time()
        token = objects.oauth_token(grant["account"], "read_write")
        store.refresh_tokens[token["refresh_token"]] = grant["account"]
        return token


def refresh(store: Store, refresh_token: str) -> dict[str, Any]:
    with store.lock:
        account_id = store.refresh_tokens.get(refresh_token)
        if account_id is None or not store.accounts[account_id].connected:
            raise errors.OAuthError(
                "invalid_grant", f"Refresh token does not exist: {refresh_token}"
            )
        token = objects.oauth_token(account_id, "read_write")
        token["refresh_token"] = refresh_token
        return token


def deauthorize(store: Store, client_id: str, account_id: str) -> dict[str, str]:
    with store.lock:
        if client_id != store.settings.client_id:
            raise errors.OAuthError("invalid_client", f"No such application: '{client_id}'", 401)
        account = store.accounts.get(account_id)
        if account is None or not account.connected:
            raise errors.OAuthError(
                "invalid_client",
                f"This application is not connected to stripe account {account_id}, "
                "or that account does not exist.",
                401,
            )
        store.revoke(account_id)
        return {"stripe_user_id": account_id}
