"""Stripe webhook events as received: one row per event id, whatever its fate."""

from __future__ import annotations

from datetime import timedelta

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
    fn,
)

from models.business import Business
from models.db import BaseModel, execute
from models.user import utcnow

APPLIED = "applied"
IGNORED = "ignored"
SKIPPED_STALE = "skipped_stale"
FAILED = "failed"
# Applied from its payload, but a same-second tie is still being settled with Stripe.
PENDING = "pending"
# Arrived while the business's link to its account was disconnected: kept for that
# business and applied (once) by the catch-up that follows a reconnect. Not final.
HELD = "held"
# A delivery of an event in one of these states is a duplicate: answer 2xx, do nothing.
FINAL = (APPLIED, IGNORED, SKIPPED_STALE)
_FINAL_SQL = ", ".join(f"'{outcome}'" for outcome in FINAL)
# The delivery path runs these for every event, so they are written out once rather
# than built by the query builder each time (which cost more than SQLite's own work).
_OUTCOME_OF = "SELECT outcome FROM webhook_event WHERE event_id = ?"
_RECORD = f"""INSERT INTO webhook_event (event_id, type, account_id, business_id, livemode,
    created, stripe_customer_id, received_at, outcome, error, attempts, payload, recovered)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
    ON CONFLICT (event_id) DO UPDATE SET outcome = excluded.outcome,
        error = excluded.error,
        recovered = webhook_event.recovered OR excluded.recovered,
        business_id = COALESCE(excluded.business_id, webhook_event.business_id),
        received_at = excluded.received_at, attempts = webhook_event.attempts + 1
    WHERE webhook_event.outcome NOT IN ({_FINAL_SQL})"""
# The claim: a delivery owns an event when it inserts its row, or takes over the row of
# an earlier delivery that did not reach a final outcome. A concurrent duplicate waits
# on the row (Postgres) or the write lock (SQLite) and then finds the outcome final.
_CLAIM = _RECORD + " RETURNING id"
_SET_OUTCOME = (
    "UPDATE webhook_event SET outcome = ?, error = ?, refetched = refetched OR ?,"
    " business_id = COALESCE(?, business_id) WHERE event_id = ?"
)

OUTCOME_LABELS = {
    APPLIED: "Applied",
    IGNORED: "Ignored",
    SKIPPED_STALE: "Skipped (older than stored data)",
    FAILED: "Failed",
    PENDING: "Checking with Stripe",
    HELD: "Waiting: arrived while Stripe was disconnected",
}


def _values(fields: dict) -> tuple:
    """The parameters of ``_RECORD`` from an event's fields."""
    return (
        fields["event_id"],
        fields["type"],
        fields["account_id"],
        fields["business"],
        fields["livemode"],
        fields["created"],
        fields["stripe_customer_id"],
        str(utcnow()),
        fields["outcome"],
        fields["error"],
        fields["payload"],
        bool(fields.get("recovered", False)),
    )


class WebhookEvent(BaseModel):
    event_id = CharField(unique=True)
    type = CharField()
    account_id = CharField(null=True)
    # The business the event was routed to; NULL when no live link matched its account.
    business = ForeignKeyField(Business, null=True, on_delete="SET NULL")
    livemode = BooleanField(default=False)
    created = IntegerField()
    stripe_customer_id = CharField(null=True)
    received_at = DateTimeField(default=utcnow)
    outcome = CharField()
    error = TextField(null=True)
    attempts = IntegerField(default=1)
    refetched = BooleanField(default=False)
    # Our own replays of a failed event (sync/replay_schedule.py): how many were made,
    # and when the next is due (NULL when none is).
    replay_attempts = IntegerField(default=0)
    next_replay_at = DateTimeField(null=True)
    # The raw event body: enough to apply it again.
    payload = TextField()
    # Recorded by catch-up from Stripe's events list, not delivered by the webhook.
    recovered = BooleanField(default=False)

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)

    @staticmethod
    def outcome_of(event_id: str) -> str | None:
        row = execute(_OUTCOME_OF, (event_id,)).fetchone()
        return row[0] if row else None

    @staticmethod
    def record(fields: dict) -> None:
        """Insert an event's row, or update the row of an earlier delivery that did
        not reach a final outcome (a final outcome is never overwritten)."""
        execute(_RECORD, _values(fields))

    @staticmethod
    def claim(fields: dict) -> bool:
        """Record the event as ``fields`` say and own its processing: False when an
        earlier delivery already gave it a final outcome (a duplicate). One statement,
        not a read then a write, so two deliveries of one event at once in two
        processes cannot both process it."""
        return execute(_CLAIM, _values(fields)).fetchone() is not None

    @staticmethod
    def set_outcome(
        event_id: str,
        outcome: str,
        error: str | None = None,
        *,
        refetched: bool = False,
        business: int | None = None,
    ) -> None:
        execute(_SET_OUTCOME, (outcome, error, refetched, business, event_id))

    @classmethod
    def recent(cls, business: Business | int, limit: int = 20):
        """The business's latest events, newest first (walks webhook_event_recent)."""
        return (
            cls.select(
                cls.event_id,
                cls.type,
                cls.stripe_customer_id,
                cls.received_at,
                cls.outcome,
                cls.error,
                cls.attempts,
                cls.refetched,
            )
            .where(cls.business == business)
            .order_by(cls.received_at.desc())
            .limit(limit)
        )

    @classmethod
    def last_received_at(cls, business: Business | int):
        latest = (
            cls.select(cls.received_at)
            .where(cls.business == business)
            .order_by(cls.received_at.desc())
            .first()
        )
        return latest.received_at if latest else None

    @classmethod
    def last_delivered_at(cls, business: Business | int):
        """When Stripe's webhook last delivered an event of the business (events that
        catch-up recovered do not count: they say the webhook missed them)."""
        latest = (
            cls.select(cls.received_at)
            .where((cls.business == business) & ~cls.recovered)
            .order_by(cls.received_at.desc())
            .first()
        )
        return latest.received_at if latest else None

    @classmethod
    def final_among(cls, event_ids: list[str]) -> set[str]:
        """Which of ``event_ids`` already have a final outcome (never applied again)."""
        found: set[str] = set()
        for start in range(0, len(event_ids), 500):
            chunk = event_ids[start : start + 500]
            query = cls.select(cls.event_id).where(cls.event_id.in_(chunk) & cls.outcome.in_(FINAL))
            found.update(row[0] for row in query.tuples())
        return found

    @classmethod
    def held_for(cls, business: Business | int, account_id: str):
        """The business's events from ``account_id`` held while its link was
        disconnected, oldest first (the partial index webhook_event_held)."""
        return (
            cls.select()
            .where((cls.account_id == account_id) & (cls.outcome == HELD))
            .where(cls.business == business)
            .order_by(cls.created, cls.id)
        )

    @classmethod
    def retire_held(cls, business: Business | int, keep_account: str, reason: str) -> int:
        """The business switched to ``keep_account``: events held for its earlier
        accounts will never be applied, so they become ignored, saying why."""
        return (
            cls.update(outcome=IGNORED, error=reason)
            .where(
                (cls.business == business)
                & (cls.outcome == HELD)
                & (cls.account_id != keep_account)
            )
            .execute()
        )

    @classmethod
    def counts_since(cls, business: Business | int, hours: int = 24) -> dict[tuple, int]:
        """Events per (type, outcome) received in the last ``hours``: an index-only scan."""
        since = utcnow() - timedelta(hours=hours)
        query = (
            cls.select(cls.type, cls.outcome, fn.COUNT(cls.id))
            .where((cls.business == business) & (cls.received_at >= since))
            .group_by(cls.type, cls.outcome)
        )
        return {(kind, outcome): count for kind, outcome, count in query.tuples()}

    @classmethod
    def _of_business(cls, business_id: int, accounts: list[str]):
        """The two sources of a business's events: those routed to it, and those from
        its accounts that were not (ignored after a switch, or failed before they
        could be routed). Each walks its own index in time order."""
        sources = [cls.business == business_id]
        if accounts:
            sources.append(cls.business.is_null() & cls.account_id.in_(accounts))
        return sources

    def belongs_to(self, business_id: int, accounts: list[str]) -> bool:
        """Whether the business's event list shows this event."""
        if self.business_id is not None:
            return self.business_id == business_id
        return self.account_id in accounts

    @classmethod
    def of_business(
        cls,
        business_id: int,
        accounts: list[str],
        *,
        outcome: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[WebhookEvent]:
        """A page of the business's events for the support console, newest first;
        ``before`` is the row id of the previous page's last event."""
        newest_first = (cls.received_at.desc(), cls.id.desc())
        edge = cls.get_or_none(cls.id == before) if before is not None else None
        rows = []
        for source in cls._of_business(business_id, accounts):
            query = cls.select().where(source)
            if outcome is not None:
                query = query.where(cls.outcome == outcome)
            if edge is not None:
                query = query.where(
                    (cls.received_at < edge.received_at)
                    | ((cls.received_at == edge.received_at) & (cls.id < edge.id))
                )
            rows.extend(query.order_by(*newest_first).limit(limit))
        rows.sort(key=lambda row: (row.received_at, row.id), reverse=True)
        return rows[:limit]

    @classmethod
    def outcome_totals(cls, business_id: int, accounts: list[str]) -> dict[str, int]:
        totals: dict[str, int] = {}
        for source in cls._of_business(business_id, accounts):
            query = cls.select(cls.outcome, fn.COUNT(cls.id)).where(source).group_by(cls.outcome)
            for outcome, count in query.tuples():
                totals[outcome] = totals.get(outcome, 0) + count
        return totals

    @classmethod
    def platform_counts_since(cls, hours: int = 24) -> dict[str, int]:
        """Events of every business per outcome in the last ``hours`` (by time index)."""
        since = utcnow() - timedelta(hours=hours)
        query = (
            cls.select(cls.outcome, fn.COUNT(cls.id))
            .where(cls.received_at >= since)
            .group_by(cls.outcome)
        )
        return dict(query.tuples())

    @classmethod
    def platform_last_received_at(cls):
        """When the newest event arrived, from any account (the end of the time index)."""
        latest = cls.select(cls.received_at).order_by(cls.received_at.desc()).first()
        return latest.received_at if latest else None
