"""Import runs: one persisted row per initial import (or catch-up after a reconnect).

The row is the job's whole state, so any process can show its progress, and a run
left behind by a dead process can be resumed from its last committed page.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models.business import Business
from models.db import BaseModel
from models.user import utcnow

QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
INTERRUPTED = "interrupted"
ACTIVE = (QUEUED, RUNNING)
# One id per process: who holds a run. A claim is a compare-and-set on this column.
PROCESS_TOKEN = uuid.uuid4().hex


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
    # Stripe-clock second of the run's first response; the final pass starts before it.
    stripe_started_at = IntegerField(null=True)
    phase = CharField(default="slices")
    # Customers Stripe sent that failed sync/customer_input.py's checks (migration 0010).
    skipped = IntegerField(default=0)
    skipped_reason = TextField(null=True)
    # JSON: the plan, including each slice's `created` range and committed cursor.
    position = TextField(null=True)

    class Meta:
        table_name = "import_run"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def plan(self) -> dict | None:
        return json.loads(self.position) if self.position else None

    def is_stale(self, stale_after: float) -> bool:
        """No heartbeat for ``stale_after`` seconds: the process holding it died."""
        return self.heartbeat_at < utcnow() - timedelta(seconds=stale_after)

    @property
    def elapsed_seconds(self) -> int:
        end = self.finished_at or utcnow()
        return max(0, round((end - (self.started_at or self.queued_at)).total_seconds()))

    @classmethod
    def latest_for(cls, business: Business | int) -> ImportRun | None:
        """The run the dashboard shows: the business's most recent one."""
        return cls.select().where(cls.business == business).order_by(cls.id.desc()).limit(1).first()

    @classmethod
    def get_for_business(cls, business: Business | int, run_id: int) -> ImportRun | None:
        return cls.get_or_none((cls.id == run_id) & (cls.business == business))

    @classmethod
    def active_for(cls, business: Business | int) -> ImportRun | None:
        return cls.get_or_none((cls.business == business) & cls.status.in_(ACTIVE))

    @classmethod
    def mark_stale_interrupted(cls, stale_after: float) -> int:
        """Active runs whose holder stopped beating died with their process."""
        cutoff = utcnow() - timedelta(seconds=stale_after)
        return (
            cls.update(status=INTERRUPTED)
            .where(cls.status.in_(ACTIVE) & (cls.heartbeat_at < cutoff))
            .execute()
        )

    def claim(self, *, from_status: str | tuple[str, ...]) -> bool:
        """Take this run for this process, if it is still in ``from_status``. Exactly one
        of several processes racing for the same run wins (one UPDATE, one row)."""
        allowed = (from_status,) if isinstance(from_status, str) else from_status
        now = utcnow()
        won = (
            ImportRun.update(
                status=RUNNING,
                owner_token=PROCESS_TOKEN,
                heartbeat_at=now,
                retry_at=None,
                finished_at=None,
                started_at=self.started_at or now,
            )
            .where((ImportRun.id == self.id) & ImportRun.status.in_(allowed))
            .execute()
        )
        if won:
            self.status, self.owner_token, self.heartbeat_at = RUNNING, PROCESS_TOKEN, now
            self.started_at = self.started_at or now
            self.retry_at = None
        return bool(won)

    def finish(self, status: str, *, error: str | None = None, retry_at: datetime | None = None):
        """Record the end of this attempt (terminal, or failed with a retry scheduled)."""
        fields = {
            "status": status,
            "finished_at": utcnow(),
            "last_error": error,
            "retry_at": retry_at,
            "heartbeat_at": utcnow(),
        }
        ImportRun.update(fields).where(ImportRun.id == self.id).execute()
        for name, value in fields.items():
            setattr(self, name, value)

    def refresh(self) -> ImportRun:
        return ImportRun.get_by_id(self.id)
