"""Customers of a business: synced from Stripe (``stripe_customer_id`` set) or
created directly in ShingleAI through the API or MCP."""

from __future__ import annotations

import re
import unicodedata

from peewee import (
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
    TimestampField,
    fn,
)

from models.business import Business
from models.db import BaseModel
from models.user import utcnow

SYNC_FILTERS = ("all", "synced", "not_synced", "deleted")
NAME_MAX = 256
EMAIL_MAX = 512
# Deliberately simple: one "@", something before it, a dotted domain after it, no
# spaces. Real validation is the owner emailing the customer.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_email(text: str) -> bool:
    """An address like name@example.com, of a length we store."""
    return len(text) <= EMAIL_MAX and bool(_EMAIL.match(text))


def _unusable(text: str) -> bool:
    """Control characters (NUL, newlines…) and lone surrogates, which SQLite cannot
    even store, have no place in a typed name or email."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def validate_fields(name: str | None, email: str | None) -> dict[str, str]:
    """The errors, by field, of a name and email typed in ShingleAI (the inline
    edit, the API, MCP). Empty means valid. Stripe's own data is never validated:
    Stripe is authoritative."""
    errors = {}
    name = (name or "").strip()
    email = (email or "").strip()
    # No one types a NUL, and Postgres text cannot hold one.
    if "\x00" in name:
        errors["name"] = "Remove the NUL character."
    elif not name:
        errors["name"] = "Enter a name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"Use at most {NAME_MAX} characters."
    elif _unusable(name):
        errors["name"] = "Remove the control or invalid characters."
    if "\x00" in email:
        errors["email"] = "Remove the NUL character."
    elif not email:
        errors["email"] = "Enter an email address."
    elif len(email) > EMAIL_MAX or not _EMAIL.match(email) or _unusable(email):
        errors["email"] = "Enter an email address like name@example.com."
    return errors


class Customer(BaseModel):
    business = ForeignKeyField(Business, backref="customers", on_delete="CASCADE")
    name = CharField(null=True)
    email = CharField(null=True)
    # Unique within a business (migration 0001); NULL for rows created in ShingleAI.
    stripe_customer_id = CharField(null=True)
    # Stripe's `created` for synced rows, the creation time for direct rows.
    customer_since = TimestampField(utc=True, resolution=1)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    deleted_in_stripe_at = DateTimeField(null=True)
    # Which Stripe observation the row's synced fields reflect; see sync/ordering.py.
    stripe_version_at = IntegerField(null=True)
    stripe_version_source = IntegerField(null=True)
    # Stripe's full customer object as JSON (migration 0008); None until synced.
    stripe_object = TextField(null=True)

    @property
    def is_synced(self) -> bool:
        return self.stripe_customer_id is not None

    @property
    def is_deleted_in_stripe(self) -> bool:
        return self.deleted_in_stripe_at is not None

    @classmethod
    def for_business(cls, business: Business | int):
        return cls.select().where(cls.business == business)

    @classmethod
    def sync_condition(cls, sync: str):
        """The WHERE term of each Sync filter. "Synced" means Stripe still keeps the
        row current, so rows deleted in Stripe have their own filter."""
        if sync == "synced":
            return cls.stripe_customer_id.is_null(False) & cls.deleted_in_stripe_at.is_null()
        if sync == "not_synced":
            return cls.stripe_customer_id.is_null()
        if sync == "deleted":
            return cls.deleted_in_stripe_at.is_null(False)
        if sync == "all":
            return None
        raise ValueError(f"unknown sync filter {sync!r}; expected one of {SYNC_FILTERS}")

    @classmethod
    def holding_email(
        cls, business: Business | int, email: str, *, other_than: int | None = None
    ) -> Customer | None:
        """The business's customer (other than ``other_than``) that already has ``email``,
        compared case-insensitively. One email, one customer per business: the API
        (409), MCP and the inline edit all refuse a second one through this rule."""
        query = cls.for_business(business).where(fn.lower(cls.email) == fn.lower(email))
        if other_than is not None:
            query = query.where(cls.id != other_than)
        return query.order_by(cls.id).first()

    @classmethod
    def get_for_business(cls, business: Business | int, customer_id: int) -> Customer | None:
        """The one lookup every route uses, so a row of another business is never reached."""
        return cls.get_or_none((cls.id == customer_id) & (cls.business == business))
