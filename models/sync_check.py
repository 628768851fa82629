"""Sync checks: one persisted row per "Sync now" (a catch-up from Stripe's events) or
"Check every customer" (a reconciliation), however it was started.

Why a subclass of ``ImportRun`` with its own table, rather than new machinery or more
rows in ``import_run``: a reconciliation *is* the import's pass over the account — the
same slices, pacing, resume position, heartbeat, claim token and recovery — so it needs
every column and method of a run, and copying them would make two places to fix. But it
is not an import: the import's panel, Retry, "supersede" rules and its one-active index
must not see checks (a reconcile must not block a reconnect's import, nor be shown as
"Imported 12,345 customers"). Its own table gives it its own partial unique index — one
check at a time per business, so a second click joins the running one — and leaves the
import's life cycle untouched. The inherited methods act on ``type(self)``, so they read
and write this table.
"""

from __future__ import annotations

from peewee import CharField, ForeignKeyField, IntegerField, fn

from models.business import Business
from models.import_run import ACTIVE, SUCCEEDED, ImportRun

CATCH_UP = "catch_up"
RECONCILE = "reconcile"
KINDS = (CATCH_UP, RECONCILE)
# Who or what started a check: the owner's button, `flask sync-now`, the schedule
# (SYNC_RECONCILE_EVERY), or catch-up finding a gap its events cannot cover.
REASONS = ("owner", "cli", "schedule", "gap")


class SyncCheck(ImportRun):
    business = ForeignKeyField(Business, backref="sync_checks", on_delete="CASCADE")
    kind = CharField(default=RECONCILE)
    reason = CharField(default="owner")
    # The link checked (account and attach, as ImportRun's): a check never writes for
    # another link, nor speaks for its customers.
    account_id = CharField(null=True)
    checked = IntegerField(default=0)  # rows compared with Stripe
    corrected = IntegerField(default=0)  # rows that differed and were rewritten
    marked_deleted = IntegerField(default=0)  # gone from Stripe, confirmed by a retrieve
    recovered = IntegerField(default=0)  # catch-up: events applied that we had missed
    requests = IntegerField(default=0)  # Stripe requests spent (every attempt)
    estimate = IntegerField(null=True)  # requests announced beforehand

    class Meta:
        table_name = "sync_check"

    @property
    def is_reconcile(self) -> bool:
        return self.kind == RECONCILE

    @classmethod
    def active_for(cls, business: Business | int) -> SyncCheck | None:
        return cls.get_or_none((cls.business == business) & cls.status.in_(ACTIVE))

    @classmethod
    def last_succeeded(cls, business: Business | int, kind: str | None = None):
        """The business's latest check that ran to its end (of ``kind``, if given)."""
        query = cls.select().where((cls.business == business) & (cls.status == SUCCEEDED))
        if kind is not None:
            query = query.where(cls.kind == kind)
        return query.order_by(cls.finished_at.desc(), cls.id.desc()).first()

    @classmethod
    def last_reconciled_at(cls, business: Business | int, account_id: str):
        """When the account's customers were last all checked (None: never)."""
        row = (
            cls.select(cls.finished_at)
            .where(
                (cls.business == business)
                & (cls.account_id == account_id)
                & (cls.kind == RECONCILE)
                & (cls.status == SUCCEEDED)
            )
            .order_by(cls.finished_at.desc())
            .first()
        )
        return row.finished_at if row else None

    @classmethod
    def totals_since(cls, business: Business | int, since) -> dict[str, int]:
        """What checks that ended since ``since`` recovered and corrected, summed."""
        row = (
            cls.select(
                fn.COALESCE(fn.SUM(cls.recovered), 0),
                fn.COALESCE(fn.SUM(cls.corrected), 0),
                fn.COALESCE(fn.SUM(cls.marked_deleted), 0),
            )
            .where(
                (cls.business == business) & (cls.status == SUCCEEDED) & (cls.finished_at >= since)
            )
            .tuples()
            .first()
        )
        return dict(zip(("recovered", "corrected", "marked_deleted"), map(int, row), strict=True))
