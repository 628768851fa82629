"""The history of a business's Stripe link: one row per connect, reconnect, switch
and disconnection, written by ``StripeAccount`` itself (so every code path that
changes the link records it) and read by the support console."""

from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, TextField

from models.business import Business
from models.db import BaseModel
from models.user import utcnow

CONNECTED = "connected"
RECONNECTED = "reconnected"
SWITCHED = "switched"
DISCONNECTED = "disconnected"  # by the owner, with Disconnect
REVOKED = "revoked"  # in Stripe (account.application.deauthorized)
REFUSED = "refused"  # Stripe refused our calls for the account

KIND_LABELS = {
    CONNECTED: "Connected",
    RECONNECTED: "Reconnected",
    SWITCHED: "Switched account",
    DISCONNECTED: "Disconnected by the owner",
    REVOKED: "Access revoked in Stripe",
    REFUSED: "Stripe refused access",
}


class LinkEvent(BaseModel):
    business = ForeignKeyField(Business, backref="link_events", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    kind = CharField()
    account_id = CharField()
    previous_account_id = CharField(null=True)
    reason = TextField(null=True)
    # Reconstructed by migration 0011 from the link as it stood; earlier steps are unknown.
    backfilled = BooleanField(default=False)

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @classmethod
    def history(cls, business: Business | int):
        """The business's link events, newest first."""
        return cls.select().where(cls.business == business).order_by(cls.at.desc(), cls.id.desc())

    @classmethod
    def accounts_of(cls, business: Business | int) -> list[str]:
        """Every Stripe account the business has ever been linked to."""
        query = cls.select(cls.account_id).where(cls.business == business).distinct()
        return [account for (account,) in query.tuples()]
