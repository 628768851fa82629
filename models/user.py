"""People who log in: owners of businesses, and ShingleAI support staff (a role;
support users have no business and see only the support console)."""

from __future__ import annotations

from datetime import UTC, datetime

from peewee import CharField, DateTimeField

from models.db import BaseModel, db
from models.password_hashing import hash_password, password_matches


def utcnow() -> datetime:
    """Naive UTC timestamps everywhere, so SQLite compares them as text correctly."""
    return datetime.now(UTC).replace(tzinfo=None)


OWNER = "owner"
SUPPORT = "support"


class User(BaseModel):
    email = CharField(unique=True)
    password_hash = CharField()
    created_at = DateTimeField(default=utcnow)
    # An IANA name ("Europe/Berlin") the browser reported; pages show times in it.
    time_zone = CharField(null=True)
    role = CharField(default=OWNER)  # migration 0011

    @property
    def is_support(self) -> bool:
        return self.role == SUPPORT

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return password_matches(self.password_hash, password)

    def remember_time_zone(self, name: str) -> None:
        """Store the browser's time zone (already validated by the caller)."""
        if name != self.time_zone:
            User.update(time_zone=name).where(User.id == self.id).execute()
            self.time_zone = name

    @classmethod
    def by_email(cls, email: str) -> User | None:
        return cls.get_or_none(cls.email == email.strip().lower())

    @classmethod
    def create_owner(cls, email: str, password: str, business_name: str) -> User:
        """An owner always comes with a primary business: every page is scoped to it."""
        from models.business import Business

        with db.atomic():
            user = cls(email=email.strip().lower())
            user.set_password(password)
            user.save()
            Business.create(owner=user, name=business_name, is_primary=True)
        return user

    @classmethod
    def create_support(cls, email: str, password: str) -> User:
        """A support account: no business, so no owner page is ever scoped to it."""
        user = cls(email=email.strip().lower(), role=SUPPORT)
        user.set_password(password)
        user.save()
        return user
