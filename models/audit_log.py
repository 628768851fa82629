"""The audit log: who did what, when, to which business. Append-only.

Support staff act on businesses that are not theirs, so every support action leaves an
entry (and so does every removal of a customer, whoever removed it: the entry keeps
what was removed). Nothing edits or deletes an entry: the model refuses it, and the
database's triggers (migration 0011) refuse it too.
"""

from __future__ import annotations

import json

from peewee import CharField, DateTimeField, IntegerField, TextField

from models.db import BaseModel
from models.user import utcnow

# What an entry can record; the console shows the label.
ACTIONS = {
    "business.searched": "Searched for a business",
    "business.viewed": "Viewed a business",
    "customer.removed": "Removed a customer deleted in Stripe",
    "webhook.replayed": "Replayed a failed webhook event",
}
PAGE_SIZE = 50


class AppendOnly(Exception):
    """An attempt to change or delete an audit entry."""


class AuditEntry(BaseModel):
    at = DateTimeField(default=utcnow)
    actor_id = IntegerField()
    actor_email = CharField()
    actor_role = CharField()
    action = CharField()
    business_id = IntegerField(null=True)
    business_name = CharField(null=True)
    summary = TextField()
    details = TextField(default="{}")

    class Meta:
        table_name = "audit_log"

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    @property
    def details_dict(self) -> dict:
        return json.loads(self.details or "{}")

    @classmethod
    def write(cls, actor, action: str, summary: str, *, business=None, details=None):
        """Append one entry; ``actor`` is the User acting, ``business`` the Business
        acted on (both copied as text, so the entry outlives them)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        return cls.create(
            actor_id=actor.id,
            actor_email=actor.email,
            actor_role=actor.role,
            action=action,
            business_id=business.id if business is not None else None,
            business_name=business.name if business is not None else None,
            summary=summary,
            details=json.dumps(details or {}, sort_keys=True, default=str),
        )

    def save(self, *args, **kwargs):
        if self.id is not None:
            raise AppendOnly("audit entries cannot be changed")
        return super().save(*args, **kwargs)

    def delete_instance(self, *args, **kwargs):
        raise AppendOnly("audit entries cannot be deleted")

    @classmethod
    def newest(cls, *, business_id: int | None = None, before: int | None = None):
        """A page of entries, newest first, optionally of one business; ``before`` is
        the id of the last entry of the previous page."""
        query = cls.select().order_by(cls.id.desc()).limit(PAGE_SIZE + 1)
        if business_id is not None:
            query = query.where(cls.business_id == business_id)
        if before is not None:
            query = query.where(cls.id < before)
        return query
