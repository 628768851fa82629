"""Businesses; each owner has exactly one primary business, the one Stripe links to."""

from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField

from models.db import BaseModel, db
from models.user import User, utcnow


class Business(BaseModel):
    owner = ForeignKeyField(User, backref="businesses", on_delete="CASCADE")
    name = CharField()
    # A partial unique index (migration 0001) allows one is_primary row per owner.
    is_primary = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)

    @classmethod
    def primary_for(cls, user: User) -> Business | None:
        return cls.get_or_none((cls.owner == user) & cls.is_primary)

    def make_primary(self) -> None:
        """Swap the primary flag in one transaction, so no moment has zero or two."""
        with db.atomic():
            Business.update(is_primary=False).where(
                (Business.owner == self.owner_id) & Business.is_primary
            ).execute()
            Business.update(is_primary=True).where(Business.id == self.id).execute()
        self.is_primary = True
