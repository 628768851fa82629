"""The link between a primary business and its Stripe Connect account, and the
fence that keeps work done for one link from writing into the next.

Only the account id is kept: calls are made with the platform key plus the
``Stripe-Account`` header, so no access token is stored.

Every attach (connect, reconnect, switch) bumps the link's ``generation`` in the same
transaction. Work started for a link (an import run, a webhook's tie fetch, a sweep)
carries that link's ``LinkFence`` and checks it inside each of its write transactions
(``StripeAccount.hold``), so once the link has changed — even to the same account
reconnected — the old work can no longer write, and a disconnect made for one
account and generation can never end another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    TextField,
)

from models import link_history
from models.business import Business
from models.connect_attempt import ATTEMPT_TTL, ConnectAttempt, ConnectRefused
from models.db import BaseModel, execute, is_postgres, write_transaction
from models.link_history import LinkEvent
from models.user import utcnow

__all__ = [
    "ATTEMPT_TTL",
    "CONNECTED",
    "DISCONNECTED",
    "NO_LINK",
    "ConnectAttempt",
    "ConnectRefused",
    "LinkFence",
    "StaleLink",
    "StripeAccount",
]

CONNECTED = "connected"
DISCONNECTED = "disconnected"
# Who ended a link: the owner's own Disconnect, or Stripe (revoked, refused calls).
BY_OWNER = "owner"
BY_STRIPE = "stripe"
# The generation an attach expects when the business has no link row yet.
NO_LINK = 0


@dataclass(frozen=True)
class LinkFence:
    """The link a piece of work was started for: which business, which Stripe account,
    and which attach of it (its generation)."""

    business_id: int
    account_id: str
    generation: int


class StaleLink(Exception):
    """The link is no longer the one the work was started for (switched, reconnected or
    disconnected since): the work must stop and write nothing more. Not a failure to
    show the owner; newer work for the current link takes over."""


# ``StripeAccount.hold`` runs inside every fenced write (each webhook event): written
# out rather than built by peewee for each call, which cost more than running it.
_HOLD = (
    "SELECT id FROM stripe_account"
    " WHERE business_id = ? AND account_id = ? AND generation = ? AND status = ?"
)


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
    # Bumped by every attach, in its transaction (migration 0013).
    generation = IntegerField(default=1)

    @property
    def fence(self) -> LinkFence:
        return LinkFence(self.business_id, self.account_id, self.generation)

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
    def fence_for(cls, business: Business | int) -> LinkFence | None:
        """The fence of the business's current link, or None when it is not connected."""
        link = cls.for_business(business)
        return link.fence if link is not None and link.is_connected else None

    @classmethod
    def _fenced(cls, fence: LinkFence):
        return (
            (cls.business == fence.business_id)
            & (cls.account_id == fence.account_id)
            & (cls.generation == fence.generation)
        )

    @classmethod
    def hold(cls, fence: LinkFence) -> None:
        """Inside a write transaction: raise ``StaleLink`` unless the business is still
        connected to that account by that same attach. The answer holds until the
        transaction ends: on SQLite the write transaction already excludes every other
        writer; on Postgres the link row is share-locked, so an attach or disconnect
        waits for this transaction (and concurrent fenced writers do not wait for
        each other)."""
        sql = _HOLD + (" FOR SHARE" if is_postgres() else "")
        params = (fence.business_id, fence.account_id, fence.generation, CONNECTED)
        if execute(sql, params).fetchone() is None:
            raise StaleLink(
                f"the link of business {fence.business_id} is no longer {fence.account_id} "
                f"(generation {fence.generation})"
            )

    @classmethod
    def of_fence(cls, fence: LinkFence) -> StripeAccount | None:
        """The link row as it was when ``fence`` was taken, if it still is that link
        (connected or not); None once it was attached again."""
        return cls.get_or_none(cls._fenced(fence))

    @classmethod
    def accounts_ever(cls, business: Business | int) -> list[str]:
        """The account linked now and every account the link's history names."""
        link = cls.for_business(business)
        current = [link.account_id] if link is not None else []
        return sorted(set(current + LinkEvent.accounts_of(business)))

    @classmethod
    def attach(
        cls,
        business: Business,
        account_id: str,
        livemode: bool,
        account_name: str | None = None,
        *,
        seen_generation: int | None = None,
    ) -> StripeAccount:
        """Link ``account_id`` to the business as Connected from now on, replacing any
        earlier link of it, as a new generation. A compare-and-set: ``StaleLink`` when
        the link is no longer the one the caller decided on (``seen_generation``, or
        ``NO_LINK``), e.g. another tab attached meanwhile; None attaches over whatever
        link there is (seeding, where nothing runs concurrently). Refused when the account is
        connected to another business (the partial unique index of migration 0002
        decides, even under a race)."""
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
                if seen_generation is None and before is not None:
                    seen_generation = before.generation
                if seen_generation is None or seen_generation == NO_LINK:
                    if before is not None:
                        raise StaleLink(f"business {business.id} was linked meanwhile")
                    cls.create(business=business, generation=1, **values)
                else:
                    updated = (
                        cls.update(generation=cls.generation + 1, **values)
                        .where((cls.business == business) & (cls.generation == seen_generation))
                        .execute()
                    )
                    if not updated:
                        raise StaleLink(f"the link of business {business.id} changed meanwhile")
                previous = before.account_id if before is not None else None
                LinkEvent.create(
                    business=business,
                    at=values["connected_at"],
                    kind=_attach_kind(previous, account_id),
                    account_id=account_id,
                    previous_account_id=previous if previous != account_id else None,
                )
        except IntegrityError:
            if seen_generation == NO_LINK and cls.for_business(business) is not None:
                # Another request created the business's link first.
                raise StaleLink(f"business {business.id} was linked meanwhile") from None
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
        (the echo of the revocation the caller itself just made). Fenced by this
        instance's account and generation: a link attached again since it was read
        (another account, or the same one reconnected) is left alone, False."""
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
                .where(
                    (StripeAccount.id == self.id) & StripeAccount._fenced(self.fence) & still_ours
                )
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
