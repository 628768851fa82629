"""Per-business API tokens for the JSON API and the MCP server.

A token is shown once when created; only its SHA-256 is stored (the secret has 256
bits of entropy, so a slow password hash would add nothing). A short, non-secret
prefix is kept so the owner can tell tokens apart on the settings page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from peewee import CharField, DateTimeField, ForeignKeyField

from models.api_errors import ApiError
from models.business import Business
from models.db import BaseModel
from models.user import User, utcnow

TOKEN_PREFIX = "shai_"
READ_WRITE = "read_write"
READ_ONLY = "read_only"
SCOPES = {READ_WRITE: "Read and write", READ_ONLY: "Read only"}
NAME_MAX = 100
# Recording every use would make each read a write; a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ApiError):
    """Why a token may not be used: 401 (not a live token) or 403 (a live token that
    may not do this)."""


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def validate_token_fields(name: str, scope: str) -> dict[str, str]:
    """Errors, by field, of the create-token form. Empty means valid."""
    errors = {}
    if not name.strip():
        errors["name"] = "Give the token a name, such as the tool that will use it."
    elif len(name.strip()) > NAME_MAX:
        errors["name"] = f"Use at most {NAME_MAX} characters."
    if scope not in SCOPES:
        errors["scope"] = "Choose read and write, or read only."
    return errors


class ApiToken(BaseModel):
    business = ForeignKeyField(Business, backref="api_tokens", on_delete="CASCADE")
    created_by = ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE")
    name = CharField()
    scope = CharField(default=READ_WRITE)
    prefix = CharField()
    token_hash = CharField(unique=True)
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def can_write(self) -> bool:
        return self.scope == READ_WRITE

    @classmethod
    def issue(
        cls, user: User, business: Business, name: str, scope: str = READ_WRITE
    ) -> tuple[ApiToken, str]:
        """Create a token for ``business`` and return it with its secret, which is
        never stored and cannot be shown again."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.create(
            business=business,
            created_by=user,
            name=name.strip(),
            scope=scope,
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            token_hash=hash_secret(secret),
        )
        return token, secret

    @classmethod
    def for_business(cls, business: Business | int):
        return cls.select().where(cls.business == business).order_by(cls.created_at.desc())

    @classmethod
    def authenticate(cls, secret: str | None) -> ApiToken:
        """The live token for ``secret``, whose business is still its owner's
        primary one; raises TokenError otherwise."""
        if not secret or not secret.startswith(TOKEN_PREFIX):
            raise TokenError(401, "invalid_token", "Send a valid API token as a Bearer token.")
        token = cls.get_or_none(cls.token_hash == hash_secret(secret))
        # The lookup is by hash, but compare again in constant time for good measure.
        if token is None or not hmac.compare_digest(token.token_hash, hash_secret(secret)):
            raise TokenError(401, "invalid_token", "This API token does not exist.")
        if token.is_revoked:
            raise TokenError(401, "token_revoked", "This API token has been revoked.")
        business = Business.get_by_id(token.business_id)
        if not business.is_primary or business.owner_id != token.created_by_id:
            raise TokenError(
                403,
                "business_not_primary",
                "This token's business is no longer the primary business: create a new "
                "token on the API tokens page.",
            )
        token.business = business
        token.touch()
        return token

    def touch(self, now: datetime | None = None) -> None:
        """Record a use, at most once per LAST_USED_RESOLUTION."""
        now = now or utcnow()
        if self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.update(last_used_at=now).where(ApiToken.id == self.id).execute()
            self.last_used_at = now

    def require_write(self) -> None:
        if not self.can_write:
            raise TokenError(
                403, "read_only_token", "This API token is read only: it cannot change customers."
            )

    @classmethod
    def revoke(cls, business: Business | int, token_id: int) -> ApiToken | None:
        """Revoke a token of ``business``; None when it has no such token. Revoking
        twice keeps the first time."""
        token = cls.get_or_none((cls.id == token_id) & (cls.business == business))
        if token is not None and not token.is_revoked:
            token.revoked_at = utcnow()
            ApiToken.update(revoked_at=token.revoked_at).where(
                (ApiToken.id == token.id) & ApiToken.revoked_at.is_null()
            ).execute()
        return token
