"""Writing Stripe customer data into rows, under the ordering rule of sync/ordering.py.

The import (a page of snapshots) and the webhooks (one event) both come through
``apply_changes``, so the rule is enforced in exactly one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from models.customer import Customer
from models.customer_removal import removed_ids
from models.db import write_transaction
from models.user import utcnow
from sync.ordering import Decision, Source, Version, decide


@dataclass(frozen=True)
class Change:
    """One observation of a Stripe customer: its object, when it was true, and
    whether it says the customer was deleted."""

    customer: Mapping
    version: Version
    deleted: bool = False


@dataclass
class ApplyResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    # Stripe ids whose change tied with stored data in the same second: re-fetch them.
    ties: list[str] = field(default_factory=list)


@dataclass
class _Stored:
    row_id: int | None
    version: Version | None
    deleted: bool


def _field(customer: Mapping, key: str):
    """Stripe sends null, and some callers "", for a missing name or email."""
    # StripeObject has no .get() since stripe-python 15, so test membership.
    value = customer[key] if key in customer else None  # noqa: SIM401
    return value or None


def _stored_rows(business_id: int, stripe_ids: list[str]) -> dict[str, _Stored]:
    rows = Customer.select(
        Customer.id,
        Customer.stripe_customer_id,
        Customer.stripe_version_at,
        Customer.stripe_version_source,
        Customer.deleted_in_stripe_at,
    ).where((Customer.business == business_id) & Customer.stripe_customer_id.in_(stripe_ids))
    stored = {}
    for row in rows.tuples():
        row_id, stripe_id, at, source, deleted_at = row
        version = Version(at, Source(source)) if at is not None else None
        stored[stripe_id] = _Stored(row_id, version, deleted_at is not None)
    return stored


def _deleted_at(change: Change) -> datetime:
    return datetime.fromtimestamp(change.version.at, UTC).replace(tzinfo=None)


def apply_changes(business_id: int, changes: Sequence[Change]) -> ApplyResult:
    """Apply ``changes`` to the business's rows in one write transaction: new
    customers are inserted in bulk, known ones updated only where the ordering rule
    allows, deletions marked (rows are never removed here). A customer removed from
    the list after its deletion in Stripe stays removed: its changes are skipped."""
    result = ApplyResult()
    if not changes:
        return result
    now = utcnow()
    with write_transaction():
        stripe_ids = list({c.customer["id"] for c in changes})
        stored = _stored_rows(business_id, stripe_ids)
        removed = removed_ids(business_id, stripe_ids)
        inserts: dict[str, dict] = {}
        for change in changes:
            stripe_id = change.customer["id"]
            if stripe_id in removed:
                result.skipped += 1
                continue
            # Retrieving a deleted customer returns a stub {id, object, deleted}: it can
            # mark a known row deleted but carries no fields.
            stub = "created" not in change.customer
            fields = (
                {}
                if stub
                else {
                    "name": _field(change.customer, "name"),
                    "email": _field(change.customer, "email"),
                    "customer_since": int(change.customer["created"]),
                    "stripe_version_at": change.version.at,
                    "stripe_version_source": int(change.version.source),
                    "updated_at": now,
                }
            )
            current = stored.get(stripe_id)
            if current is None and stub:
                result.skipped += 1
                continue
            if current is None:
                inserts[stripe_id] = {
                    **fields,
                    "deleted_in_stripe_at": _deleted_at(change) if change.deleted else None,
                    "business": business_id,
                    "stripe_customer_id": stripe_id,
                    "created_at": now,
                }
                stored[stripe_id] = _Stored(None, change.version, change.deleted)
                if change.deleted:
                    result.deleted += 1
                else:
                    result.created += 1
                continue
            # Rule 1: a customer.deleted carries the final state, so its fields land too.
            final = change.deleted and not stub
            decision = (
                Decision.APPLY
                if final
                else decide(change.version, current.version, stored_deleted=current.deleted)
            )
            values = fields if decision is Decision.APPLY else {}
            newly_deleted = change.deleted and not current.deleted
            if newly_deleted:
                # Rule 1: a deletion always lands, whatever its stamp.
                values = {**values, "deleted_in_stripe_at": _deleted_at(change), "updated_at": now}
            elif decision is Decision.TIE:
                result.ties.append(stripe_id)
                continue
            if not values:
                result.skipped += 1
                continue
            if current.row_id is None:
                inserts[stripe_id].update(values)
            else:
                Customer.update(values).where(Customer.id == current.row_id).execute()
            if decision is Decision.APPLY:
                current.version = change.version
            if newly_deleted:
                current.deleted = True
                result.deleted += 1
            elif current.row_id is not None:
                result.updated += 1
        if inserts:
            Customer.insert_many(list(inserts.values())).execute()
    return result
