"""Login sessions kept server-side.

The signed session cookie holds only a random secret naming a row of
``login_session``; the row, not the cookie, decides whether the owner is logged in.
So a cookie copied before logout, a password change or "Log out everywhere" stops
working the moment its row is deleted. Only the secret's SHA-256 is stored: a leaked
database does not hand out live sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from peewee import CharField, DateTimeField, ForeignKeyField

from models.db import BaseModel
from models.user import User, utcnow

# However active, a session ends this long after login: a stolen cookie does not live
# forever.
LIFETIME = timedelta(days=14)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class LoginSession(BaseModel):
    user = ForeignKeyField(User, backref="login_sessions", on_delete="CASCADE")
    token_hash = CharField(unique=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()

    @classmethod
    def begin(cls, user: User) -> str:
        """A new session for ``user``; returns the secret the cookie carries."""
        secret = secrets.token_urlsafe(32)
        now = utcnow()
        cls.create(user=user, token_hash=_hash(secret), created_at=now, expires_at=now + LIFETIME)
        return secret

    @classmethod
    def user_for(cls, secret: str | None) -> User | None:
        """The owner of a live session, or None (unknown, ended or expired)."""
        if not secret or not isinstance(secret, str):
            return None
        return (
            User.select()
            .join(cls)
            .where((cls.token_hash == _hash(secret)) & (cls.expires_at > utcnow()))
            .first()
        )

    @classmethod
    def end(cls, secret: str | None) -> None:
        """End one session (logout), and sweep this owner's expired ones."""
        if secret and isinstance(secret, str):
            cls.delete().where(cls.token_hash == _hash(secret)).execute()
        cls.delete().where(cls.expires_at <= utcnow()).execute()

    @classmethod
    def end_all(cls, user: User) -> int:
        """End every session of ``user`` (password change, "Log out everywhere")."""
        return cls.delete().where(cls.user == user).execute()
