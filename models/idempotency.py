"""Idempotency keys, as in Stripe's API: the first answer given for a key is kept
for 24 hours and replayed for every retry with the same key, so an agent that
retries a create never makes a second customer.

The key row is inserted first, in the same write transaction as the work it guards,
under a unique index on (business, key): two concurrent requests with one key are
serialized (by SQLite's write lock; on Postgres the second insert waits for the first
transaction on the index entry, then finds the row) and the second one replays the
first one's answer; if the work fails, the key row rolls back with it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models.api_errors import ApiError
from models.api_token import ApiToken
from models.business import Business
from models.db import BaseModel, write_transaction
from models.user import utcnow

KEY_MAX = 255  # Stripe's limit
# Printable ASCII (it travels in an HTTP header) with at least one non-space.
KEY_PATTERN = r"^[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$"
RETENTION = timedelta(hours=24)


class IdempotencyKeyError(ApiError):
    """A key that cannot be used for this request; Stripe answers 400
    ``idempotency_error`` for a key reused with other parameters."""

    def __init__(self, message: str):
        super().__init__(400, "idempotency_error", message, field="Idempotency-Key")


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict
    replayed: bool = False


class IdempotencyKey(BaseModel):
    business = ForeignKeyField(Business, on_delete="CASCADE")
    token = ForeignKeyField(ApiToken, null=True, on_delete="SET NULL")
    key = CharField()
    fingerprint = CharField()
    status = IntegerField(null=True)
    body = TextField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "idempotency_key"


def fingerprint(operation: str, params: Mapping) -> str:
    """What "the same request" means: the operation and its parameters, whatever
    their order or formatting in the body."""
    canonical = json.dumps([operation, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(key: str) -> None:
    if len(key) > KEY_MAX or not re.fullmatch(KEY_PATTERN, key):
        raise IdempotencyKeyError(
            f"Idempotency-Key must be 1 to {KEY_MAX} printable ASCII characters, such as a UUID."
        )


def run_once(
    business_id: int,
    key: str,
    print_: str,
    work: Callable[[], Outcome],
    *,
    token_id: int | None = None,
) -> Outcome:
    """Run ``work`` once per (business, key) and keep its answer; a retry with the
    same key gets that answer back (``replayed``), a reuse of the key for a
    different request raises IdempotencyKeyError."""
    validate_key(key)
    now = utcnow()
    with write_transaction():
        # Past retention a key may be reused for a new request, as in Stripe.
        purge_expired(now)
        IdempotencyKey.insert(
            business=business_id, token=token_id, key=key, fingerprint=print_, created_at=now
        ).on_conflict_ignore().execute()
        stored = IdempotencyKey.get(
            (IdempotencyKey.business == business_id) & (IdempotencyKey.key == key)
        )
        # Inside this transaction a row without an answer can only be the one just
        # inserted: answers are written before commit.
        if stored.status is not None:
            return _replay(stored, print_)
        outcome = work()
        IdempotencyKey.update(status=outcome.status, body=json.dumps(outcome.body)).where(
            IdempotencyKey.id == stored.id
        ).execute()
    return outcome


def _replay(stored: IdempotencyKey, print_: str) -> Outcome:
    if stored.fingerprint != print_:
        raise IdempotencyKeyError(
            "Keys for idempotent requests can only be used with the same parameters they "
            "were first used with. Try using a key other than "
            f"'{stored.key}' if you meant to execute a different request."
        )
    return Outcome(stored.status, json.loads(stored.body), replayed=True)


def purge_expired(now: datetime | None = None) -> int:
    """Delete keys past retention; returns how many."""
    cutoff = (now or utcnow()) - RETENTION
    return IdempotencyKey.delete().where(IdempotencyKey.created_at < cutoff).execute()
