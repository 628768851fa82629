"""The server-side record of each click on "Connect Stripe": its OAuth state, when
its code was exchanged, and the account held for the owner's confirmation of a switch.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField

from models.business import Business
from models.db import BaseModel, db
from models.user import utcnow

# Stripe's authorization codes live 5 minutes; the owner may linger on Stripe's page.
ATTEMPT_TTL = timedelta(minutes=30)


class ConnectRefused(Exception):
    """A Connect step that stopped with nothing stored; the message is for the owner."""


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class ConnectAttempt(BaseModel):
    """One click on "Connect Stripe": its OAuth ``state`` (hashed), when its code was
    exchanged, and the account waiting for the owner's confirmation, if any."""

    business = ForeignKeyField(Business, on_delete="CASCADE")
    state_hash = CharField(unique=True)
    created_at = DateTimeField(default=utcnow)
    consumed_at = DateTimeField(null=True)
    account_id = CharField(null=True)
    account_name = CharField(null=True)
    livemode = BooleanField(default=False)
    resolved_at = DateTimeField(null=True)
    # The link's generation when the switch was held (migration 0013); 0: no link.
    link_generation = IntegerField(null=True)

    @classmethod
    def start(cls, business: Business) -> str:
        """A fresh state for the business; returns it (only its hash is stored)."""
        state = secrets.token_urlsafe(32)
        with db.atomic():
            cls.delete().where(
                (cls.business == business) & (cls.created_at < utcnow() - timedelta(days=1))
            ).execute()
            cls.create(business=business, state_hash=_digest(state))
        return state

    @classmethod
    def consume(cls, business: Business, state: str | None) -> ConnectAttempt:
        """The attempt ``state`` names, claimed for exactly one callback: a missing,
        unknown, foreign, expired or already used state is refused."""
        attempt = cls.get_or_none(cls.state_hash == _digest(state)) if state else None
        if attempt is None or attempt.business.owner_id != business.owner_id:
            raise ConnectRefused(
                "This answer from Stripe does not match a Connect Stripe click on this "
                "site, so it was ignored and nothing was linked."
            )
        if attempt.business_id != business.id:
            raise ConnectRefused(
                "Only your primary business can be linked to Stripe; this Connect attempt "
                "was started for another business. Nothing was linked."
            )
        if attempt.created_at < utcnow() - ATTEMPT_TTL:
            raise ConnectRefused("This Connect attempt expired. Connect Stripe again.")
        claimed = (
            cls.update(consumed_at=utcnow())
            .where((cls.id == attempt.id) & cls.consumed_at.is_null())
            .execute()
        )
        if not claimed:
            raise ConnectRefused(
                "This answer from Stripe was already used (a refresh or a second click), "
                "so it was not sent to Stripe again."
            )
        return attempt

    def hold_switch(
        self,
        account_id: str,
        livemode: bool,
        account_name: str | None,
        link_generation: int | None = None,
    ) -> None:
        """Keep the newly authorized account until the owner confirms the switch, with
        the generation of the link the owner was asked about: the switch is made only
        if the link is still that one (models/stripe_account.py, ``attach``). Without
        it, only a link still disconnected when the owner confirms is switched."""
        self.account_id, self.livemode, self.account_name = account_id, livemode, account_name
        self.link_generation = link_generation
        self.save(
            only=[
                ConnectAttempt.account_id,
                ConnectAttempt.livemode,
                ConnectAttempt.account_name,
                ConnectAttempt.link_generation,
            ]
        )

    @property
    def label(self) -> str:
        return f"{self.account_name} ({self.account_id})" if self.account_name else self.account_id

    @classmethod
    def pending_switch(cls, business: Business, attempt_id: int) -> ConnectAttempt | None:
        return cls.get_or_none(
            (cls.id == attempt_id)
            & (cls.business == business)
            & cls.account_id.is_null(False)
            & cls.resolved_at.is_null()
            & (cls.created_at >= utcnow() - ATTEMPT_TTL)
        )

    def resolve(self) -> bool:
        """Claim the pending switch for one answer (confirm or decline)."""
        return bool(
            ConnectAttempt.update(resolved_at=utcnow())
            .where((ConnectAttempt.id == self.id) & ConnectAttempt.resolved_at.is_null())
            .execute()
        )
