"""The link between a primary business and its Stripe Connect account, and the
server-side record of each Connect attempt.

Only the account id is kept: calls are made with the platform key plus the
``Stripe-Account`` header, so no access token is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegrityError,
    TextField,
)

from models import link_history
from models.business import Business
from models.db import BaseModel, db, write_transaction
from models.link_history import LinkEvent
from models.user import utcnow

CONNECTED = "connected"
DISCONNECTED = "disconnected"
# Who ended a link: the owner's own Disconnect, or Stripe (revoked, refused calls).
BY_OWNER = "owner"
BY_STRIPE = "stripe"
# Stripe's authorization codes live 5 minutes; the owner may linger on Stripe's page.
ATTEMPT_TTL = timedelta(minutes=30)


class ConnectRefused(Exception):
    """A Connect step that stopped with nothing stored; the message is for the owner."""


class StripeAccount(BaseModel):
    business = ForeignKeyField(Business, backref="stripe_links", on_delete="CASCADE", unique=True)
    account_id = CharField()
    # The account's business name in Stripe, read when it was linked (may be unknown).
    account_name = CharField(null=True)
    livemode = BooleanField(default=False)
    status = CharField(default=CONNECTED)
    connected_at = DateTimeField(default=utcnow)
    disconnected_at = DateTimeField(null=True)
    disconnect_reason = TextField(null=True)
    disconnected_by = CharField(null=True)

    @property
    def is_connected(self) -> bool:
        return self.status == CONNECTED

    @property
    def owner_disconnected(self) -> bool:
        """The owner chose to disconnect: nothing is broken, so pages say so calmly."""
        return not self.is_connected and self.disconnected_by == BY_OWNER

    @property
    def label(self) -> str:
        """How pages name the account: its business name beside the id."""
        return f"{self.account_name} ({self.account_id})" if self.account_name else self.account_id

    @classmethod
    def for_business(cls, business: Business | int) -> StripeAccount | None:
        return cls.get_or_none(cls.business == business)

    @classmethod
    def connected_to(cls, account_id: str) -> StripeAccount | None:
        """The live link for a Stripe account, which routes its webhooks."""
        return cls.get_or_none((cls.account_id == account_id) & (cls.status == CONNECTED))

    @classmethod
    def accounts_ever(cls, business: Business | int) -> list[str]:
        """The account linked now and every account the link's history names."""
        link = cls.for_business(business)
        current = [link.account_id] if link is not None else []
        return sorted(set(current + LinkEvent.accounts_of(business)))

    @classmethod
    def attach(
        cls, business: Business, account_id: str, livemode: bool, account_name: str | None = None
    ) -> StripeAccount:
        """Link ``account_id`` to the business as Connected from now on, replacing any
        earlier link of it. Refused when the account is connected to another business
        (the partial unique index of migration 0002 decides, even under a race)."""
        if not business.is_primary:
            raise ConnectRefused("Only your primary business can be linked to Stripe.")
        values = {
            "account_id": account_id,
            "account_name": account_name,
            "livemode": livemode,
            "status": CONNECTED,
            "connected_at": utcnow(),
            "disconnected_at": None,
            "disconnect_reason": None,
            "disconnected_by": None,
        }
        try:
            with write_transaction():
                before = cls.for_business(business)
                updated = cls.update(values).where(cls.business == business).execute()
                if not updated:
                    cls.create(business=business, **values)
                previous = before.account_id if before is not None else None
                LinkEvent.create(
                    business=business,
                    at=values["connected_at"],
                    kind=_attach_kind(previous, account_id),
                    account_id=account_id,
                    previous_account_id=previous if previous != account_id else None,
                )
        except IntegrityError:
            raise ConnectRefused(
                f"The Stripe account {account_id} is already linked to another ShingleAI "
                "business. Disconnect it there first, or connect a different account."
            ) from None
        return cls.for_business(business)

    def mark_disconnected(
        self,
        reason: str,
        at: datetime | None = None,
        *,
        kind: str = link_history.REVOKED,
        overriding_since: datetime | None = None,
    ) -> bool:
        """Record that we no longer act for this account; ``kind`` says why, for the
        link's history (the owner's own Disconnect, or Stripe revoking or refusing).
        Returns False when it already was disconnected, so the first reason, time and
        cause are kept, except a disconnection recorded since ``overriding_since``
        (the echo of the revocation the caller itself just made)."""
        at = at or utcnow()
        by = BY_OWNER if kind == link_history.DISCONNECTED else BY_STRIPE
        still_ours = StripeAccount.status == CONNECTED
        if overriding_since is not None:
            still_ours |= StripeAccount.disconnected_at >= overriding_since
        with write_transaction():
            changed = (
                StripeAccount.update(
                    status=DISCONNECTED,
                    disconnected_at=at,
                    disconnect_reason=reason,
                    disconnected_by=by,
                )
                .where((StripeAccount.id == self.id) & still_ours)
                .execute()
            )
            if changed:
                LinkEvent.create(
                    business=self.business_id,
                    at=at,
                    kind=kind,
                    account_id=self.account_id,
                    reason=reason,
                )
        if changed:
            self.status, self.disconnected_at, self.disconnect_reason = DISCONNECTED, at, reason
            self.disconnected_by = by
        return bool(changed)


def _attach_kind(previous: str | None, account_id: str) -> str:
    if previous is None:
        return link_history.CONNECTED
    return link_history.RECONNECTED if previous == account_id else link_history.SWITCHED


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

    def hold_switch(self, account_id: str, livemode: bool, account_name: str | None) -> None:
        """Keep the newly authorized account until the owner confirms the switch."""
        self.account_id, self.livemode, self.account_name = account_id, livemode, account_name
        self.save(
            only=[ConnectAttempt.account_id, ConnectAttempt.livemode, ConnectAttempt.account_name]
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
