"""Import runs: one persisted row per initial import (or catch-up after a reconnect).

The row is the job's whole state, so any process can show its progress, and a run
left behind by a dead process can be resumed from its last committed page.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from datetime import datetime

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Node, TextField

from models.business import Business
from models.db import BaseModel, db_clock, db_now
from models.stripe_account import LinkFence
from models.user import utcnow

QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
INTERRUPTED = "interrupted"
ACTIVE = (QUEUED, RUNNING)
# A holder keeps its run while it is running, or marked interrupted by a sweep that
# found its heartbeat late but has not requeued it (its next beat revives it).
HELD = (RUNNING, INTERRUPTED)


class ClaimLost(Exception):
    """Another worker took the run over (this one was presumed dead): stop, write nothing."""


def claim_token() -> str:
    """Who holds a run, unique per claim: host and pid say where it runs, for operators;
    the random part fences off a holder that was presumed dead but came back."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class ImportRun(BaseModel):
    business = ForeignKeyField(Business, backref="import_runs", on_delete="CASCADE")
    status = CharField(default=QUEUED)
    reason = CharField(default="connect")
    queued_at = DateTimeField(default=utcnow)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
    heartbeat_at = DateTimeField(default=utcnow)
    owner_token = CharField(null=True)
    seen = IntegerField(default=0)
    created = IntegerField(default=0)
    updated = IntegerField(default=0)
    pages = IntegerField(default=0)
    # Synced customers of the business when the run succeeded: what the owner now has.
    total = IntegerField(null=True)
    # Share of the account's `created` range already covered, in thousandths.
    progress = IntegerField(default=0)
    last_error = TextField(null=True)
    attempts = IntegerField(default=1)
    retry_at = DateTimeField(null=True)
    # Stripe-clock second in which the run's first page was read (sync/stripe_client.py
    # read_second): the final pass starts before it, and rows stamped before it were
    # not seen by the run (sync/import_sweep.py).
    stripe_started_at = IntegerField(null=True)
    phase = CharField(default="slices")
    # Customers Stripe sent that failed sync/customer_input.py's checks (migration 0010).
    skipped = IntegerField(default=0)
    skipped_reason = TextField(null=True)
    # JSON: the plan, including each slice's `created` range and committed cursor.
    position = TextField(null=True)
    # The link the run was queued for (migration 0013): it writes only while the
    # business is still linked to that account by that same attach.
    account_id = CharField(null=True)
    generation = IntegerField(null=True)

    class Meta:
        table_name = "import_run"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def fence(self) -> LinkFence | None:
        if self.account_id is None or self.generation is None:
            return None
        return LinkFence(self.business_id, self.account_id, self.generation)

    @property
    def plan(self) -> dict | None:
        return json.loads(self.position) if self.position else None

    def is_stale(self, stale_after: float) -> bool:
        """No heartbeat for ``stale_after`` seconds (by the database's clock): the
        process holding it died."""
        return (db_clock() - self.heartbeat_at).total_seconds() > stale_after

    def shown_status(self, stale_after: float) -> str:
        """The status every page shows: an active run whose holder stopped beating is
        interrupted already, even before start-up housekeeping records it."""
        if self.is_active and self.is_stale(stale_after):
            return INTERRUPTED
        return self.status

    @property
    def retry_is_due(self) -> bool:
        """The automatic retry's time has come (it starts within a moment)."""
        return self.retry_at is not None and self.retry_at <= utcnow()

    @property
    def elapsed_seconds(self) -> int:
        """How long the latest attempt took (or has taken so far): a retry counts
        from its own start, not from the first try."""
        end = self.finished_at or utcnow()
        return max(0, round((end - (self.started_at or self.queued_at)).total_seconds()))

    @classmethod
    def latest_for(cls, business: Business | int) -> ImportRun | None:
        """The run the dashboard shows: the business's most recent one."""
        return cls.select().where(cls.business == business).order_by(cls.id.desc()).limit(1).first()

    @classmethod
    def newest_for(cls, business: Business | int, limit: int):
        """The business's latest runs, newest first (the support console's list)."""
        return cls.select().where(cls.business == business).order_by(cls.id.desc()).limit(limit)

    @classmethod
    def get_for_business(cls, business: Business | int, run_id: int) -> ImportRun | None:
        return cls.get_or_none((cls.id == run_id) & (cls.business == business))

    @classmethod
    def active_for(cls, business: Business | int) -> ImportRun | None:
        return cls.get_or_none((cls.business == business) & cls.status.in_(ACTIVE))

    @classmethod
    def completed_start(cls, business: Business | int, linked_at: datetime) -> int | None:
        """The Stripe second at which the newest import that succeeded for the link made
        at ``linked_at`` began: every change before it is in the rows (catch-up's floor)."""
        run = (
            cls.select(cls.stripe_started_at)
            .where(
                (cls.business == business)
                & (cls.status == SUCCEEDED)
                & (cls.queued_at >= linked_at)
                & cls.stripe_started_at.is_null(False)
            )
            .order_by(cls.id.desc())
            .first()
        )
        return run.stripe_started_at if run else None

    @classmethod
    def mark_stale_interrupted(cls, stale_after: float) -> int:
        """Active runs whose holder stopped beating died with their process."""
        return (
            cls.update(status=INTERRUPTED)
            .where(cls.status.in_(ACTIVE) & (cls.heartbeat_at < db_now(-stale_after)))
            .execute()
        )

    @classmethod
    def requeue(
        cls,
        run_id: int,
        *,
        from_status: str | tuple[str, ...],
        due_retry: bool = False,
        restart_attempts: bool = False,
    ) -> bool:
        """Put a stopped run back in the queue (it resumes from its saved position), if
        it is still in ``from_status``. ``due_retry``: only a failed run whose automatic
        retry is due, counting the attempt; ``restart_attempts``: the owner asked, so
        automatic retries start over. A compare-and-set: of several sweeps, timers or
        clicks racing for one run, exactly one wins."""
        allowed = (from_status,) if isinstance(from_status, str) else from_status
        fields = {"status": QUEUED, "heartbeat_at": db_now(), "owner_token": None}
        condition = (cls.id == run_id) & cls.status.in_(allowed)
        if due_retry:
            fields.update(attempts=cls.attempts + 1, retry_at=None)
            condition &= cls.retry_at.is_null(False) & (cls.retry_at <= db_now())
        if restart_attempts:
            fields.update(attempts=1, retry_at=None)
        return bool(cls.update(fields).where(condition).execute())

    def release(self) -> bool:
        """The holder hands the run back to the queue (its process is stopping), so
        another worker resumes it at once instead of after it goes stale — unless it is
        no longer the holder (a superseded run stays superseded)."""
        return bool(
            type(self)
            .update(status=QUEUED, owner_token=None, heartbeat_at=db_now())
            .where(type(self).held(self.id, self.owner_token))
            .execute()
        )

    @classmethod
    def overdue_retries(cls, grace: float) -> list[int]:
        """Failed runs whose automatic retry is ``grace`` seconds overdue: its timer
        was lost with the queue (a Redis flushed, say), so a sweep fires it instead."""
        query = cls.select(cls.id).where(
            (cls.status == FAILED) & cls.retry_at.is_null(False) & (cls.retry_at < db_now(-grace))
        )
        return [row.id for row in query]

    def claim(self, *, from_status: str | tuple[str, ...]) -> bool:
        """Take this run for this worker, if it is still in ``from_status``. Exactly one
        of several workers racing for the same run wins (one UPDATE, one row)."""
        allowed = (from_status,) if isinstance(from_status, str) else from_status
        token, now = claim_token(), db_clock()
        run = type(self)
        won = (
            run.update(
                status=RUNNING,
                owner_token=token,
                heartbeat_at=now,
                retry_at=None,
                finished_at=None,
                started_at=now,
            )
            .where((run.id == self.id) & run.status.in_(allowed))
            .execute()
        )
        if won:
            self.status, self.owner_token, self.heartbeat_at = RUNNING, token, now
            self.started_at, self.finished_at, self.retry_at = now, None, None
        return bool(won)

    @classmethod
    def held(cls, run_id: int, token: str | None):
        """The condition under which ``token`` still holds the run: every write of its
        holder (position, counters, heartbeat, end) is an ``UPDATE … WHERE`` this, so a
        holder presumed dead, requeued (Retry, the recovery sweep) or superseded (a
        reconnect) writes nothing once it comes back."""
        return (cls.id == run_id) & (cls.owner_token == token) & cls.status.in_(HELD)

    @classmethod
    def beat(cls, run_id: int, token: str) -> bool:
        """Refresh the holder's heartbeat; False when it is no longer the holder. A run
        marked interrupted while its holder was merely slow is running again, unless a
        sweep has requeued it meanwhile (that clears the token)."""
        return bool(
            cls.update(heartbeat_at=db_now(), status=RUNNING)
            .where(cls.held(run_id, token))
            .execute()
        )

    def save_progress(self, **fields) -> bool:
        """The holder saves its position and counters (``ImportRun.pages + 1`` style
        expressions are applied in SQL) and beats its heartbeat — inside the caller's
        transaction, with the page they describe; False, writing nothing, when this
        claim no longer holds the run."""
        fields["heartbeat_at"] = db_now()
        run = type(self)
        if not run.update(fields).where(run.held(self.id, self.owner_token)).execute():
            return False
        for name, value in fields.items():
            if not isinstance(value, Node):  # counters are incremented in SQL
                setattr(self, name, value)
        return True

    def finish(
        self,
        status: str,
        *,
        error: str | None = None,
        retry_at: datetime | None = None,
        **fields,
    ) -> bool:
        """Record the end of this attempt (terminal, or failed with a retry scheduled),
        with any last ``fields`` (the total). A claimed run is finished only by its
        holder; any other caller (a sweep superseding a stopped run) only if the run is
        still in the status it saw. A finished run is no longer held (``HELD``), so a
        holder that comes back writes nothing. False, writing nothing, otherwise."""
        now = db_clock()
        fields.update(
            status=status,
            finished_at=now,
            last_error=error,
            retry_at=retry_at,
            heartbeat_at=now,
        )
        run = type(self)
        if self.status == RUNNING and self.owner_token:
            condition = run.held(self.id, self.owner_token)
        else:
            condition = (run.id == self.id) & (run.status == self.status)
        if not run.update(fields).where(condition).execute():
            return False
        for name, value in fields.items():
            setattr(self, name, value)
        return True

    def refresh(self) -> ImportRun:
        return type(self).get_by_id(self.id)
