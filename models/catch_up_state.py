"""Catch-up's per-business state: the high-water mark of the linked account's events,
what the last run did, whether a gap needs a reconciliation, and the claim that lets
one catch-up run per business at a time, across threads, processes and hosts.

The claim is a compare-and-set on the row (``claim``), kept alive by a heartbeat on
the database's clock, so a run whose worker died is taken over once its heartbeat is
``STALE_AFTER`` seconds old.
"""

from __future__ import annotations

import uuid

from peewee import (
    JOIN,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from models.business import Business
from models.db import BaseModel, db_now, execute, write_transaction
from models.stripe_account import CONNECTED, StripeAccount

STALE_AFTER = 120  # seconds without a heartbeat before a running catch-up counts as dead

_ENSURE = "INSERT INTO catch_up_state (business_id) VALUES (?) ON CONFLICT (business_id) DO NOTHING"


class CatchUpState(BaseModel):
    business = ForeignKeyField(Business, on_delete="CASCADE", unique=True)
    # The account the mark belongs to: after a switch, the new account starts afresh.
    account_id = CharField(null=True)
    # Stripe second up to which the account's events have been listed (the newest event
    # seen, or the second the last listing began when that is later).
    mark = IntegerField(null=True)
    last_run_at = DateTimeField(null=True)
    last_trigger = CharField(null=True)
    last_listed = IntegerField(default=0)
    last_recovered = IntegerField(default=0)
    total_recovered = IntegerField(default=0)
    last_requests = IntegerField(default=0)
    # Catch-up cannot cover a gap (its mark is older than Stripe's 30 days of events, or
    # there was never a mark nor a completed import): a reconciliation must. Cleared by
    # ``record_reconciled`` or by an import that started after the gap was found.
    needs_reconcile = BooleanField(default=False)
    # The oldest second Stripe still kept events from when the gap was found.
    gap_found_second = IntegerField(null=True)
    last_error = TextField(null=True)
    running_token = CharField(null=True)
    running_at = DateTimeField(null=True)

    class Meta:
        table_name = "catch_up_state"

    @classmethod
    def for_business(cls, business_id: Business | int) -> CatchUpState:
        """The business's state (a fresh, never-run one when there is no row yet)."""
        found = cls.get_or_none(cls.business == business_id)
        if found is not None:
            return found
        business = business_id.id if isinstance(business_id, Business) else business_id
        return cls(business=business)

    @property
    def is_running(self) -> bool:
        return self.running_token is not None

    @classmethod
    def claim(cls, business_id: int) -> str | None:
        """Take the business's catch-up for this caller: a token, or None while another
        live run holds it. One statement decides, so two claimers never both win."""
        with write_transaction():
            execute(_ENSURE, (business_id,))
            token = uuid.uuid4().hex
            taken = (
                cls.update(running_token=token, running_at=db_now())
                .where(
                    (cls.business == business_id)
                    & (cls.running_token.is_null() | (cls.running_at < db_now(-STALE_AFTER)))
                )
                .execute()
            )
        return token if taken else None

    @classmethod
    def beat(cls, business_id: int, token: str) -> bool:
        """Keep the claim alive; False when it was lost (taken over as stale)."""
        return bool(
            cls.update(running_at=db_now())
            .where((cls.business == business_id) & (cls.running_token == token))
            .execute()
        )

    @classmethod
    def finish(cls, business_id: int, token: str, **fields) -> bool:
        """Record a run's outcome and release the claim, only if still held by ``token``."""
        return bool(
            cls.update(running_token=None, running_at=None, **fields)
            .where((cls.business == business_id) & (cls.running_token == token))
            .execute()
        )

    @classmethod
    def record_reconciled(cls, business_id: int, account_id: str, stripe_second: int) -> None:
        """A full comparison with Stripe started at ``stripe_second`` (Stripe's clock)
        and finished: every event before it is covered, so the mark moves up to it and
        the gap is closed. For the reconciliation, which closes what catch-up cannot."""
        with write_transaction():
            execute(_ENSURE, (business_id,))
            state = cls.get(cls.business == business_id)
            mark = stripe_second
            if state.account_id == account_id and state.mark is not None:
                mark = max(state.mark, stripe_second)
            cls.update(
                account_id=account_id, mark=mark, needs_reconcile=False, gap_found_second=None
            ).where(cls.business == business_id).execute()

    @classmethod
    def connected_due(cls, every: float) -> list[tuple[int, str]]:
        """(business id, account id) of the connected links whose last catch-up began
        ``every`` seconds ago or more, by the database's clock (never run: due)."""
        query = (
            StripeAccount.select(StripeAccount.business, StripeAccount.account_id)
            .join(cls, on=(cls.business == StripeAccount.business), join_type=JOIN.LEFT_OUTER)
            .where(
                (StripeAccount.status == CONNECTED)
                & (cls.last_run_at.is_null() | (cls.last_run_at <= db_now(-every)))
            )
        )
        return list(query.tuples())

    @classmethod
    def recovering_due(cls, every: float) -> list[tuple[int, int]]:
        """(business id, events its last run recovered) of connected links whose last
        catch-up recovered something and began ``every`` seconds ago or more: the
        candidates for running sooner while webhooks are not arriving."""
        query = (
            cls.select(cls.business, cls.last_recovered)
            .join(StripeAccount, on=(cls.business == StripeAccount.business))
            .where(
                (StripeAccount.status == CONNECTED)
                & (cls.last_recovered > 0)
                & (cls.last_run_at <= db_now(-every))
            )
        )
        return list(query.tuples())
