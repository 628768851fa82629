"""The link between a primary business and its Stripe Connect account.

Only the account id is kept: calls are made with the platform key plus the
``Stripe-Account`` header, so no access token is stored.
"""

from __future__ import annotations

from datetime import datetime

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, TextField

from models.business import Business
from models.db import BaseModel
from models.user import utcnow

CONNECTED = "connected"
DISCONNECTED = "disconnected"


class StripeAccount(BaseModel):
    business = ForeignKeyField(Business, backref="stripe_links", on_delete="CASCADE", unique=True)
    account_id = CharField()
    livemode = BooleanField(default=False)
    status = CharField(default=CONNECTED)
    connected_at = DateTimeField(default=utcnow)
    disconnected_at = DateTimeField(null=True)
    disconnect_reason = TextField(null=True)

    @property
    def is_connected(self) -> bool:
        return self.status == CONNECTED

    @classmethod
    def for_business(cls, business: Business | int) -> StripeAccount | None:
        return cls.get_or_none(cls.business == business)

    @classmethod
    def connected_to(cls, account_id: str) -> StripeAccount | None:
        """The live link for a Stripe account, which routes its webhooks."""
        return cls.get_or_none((cls.account_id == account_id) & (cls.status == CONNECTED))

    def mark_disconnected(self, reason: str, at: datetime | None = None) -> bool:
        """Record that Stripe no longer lets us act for this account. Returns False
        when it already was disconnected, so the first reason and time are kept."""
        changed = (
            StripeAccount.update(
                status=DISCONNECTED, disconnected_at=at or utcnow(), disconnect_reason=reason
            )
            .where((StripeAccount.id == self.id) & (StripeAccount.status == CONNECTED))
            .execute()
        )
        if changed:
            self.status, self.disconnect_reason = DISCONNECTED, reason
        return bool(changed)
