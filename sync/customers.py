"""Writing Stripe customer data into rows, under the ordering rule of sync/ordering.py.

The import (a page of snapshots) and the webhooks (one event) both come through
``apply_changes``, so the rule is enforced in exactly one place.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from peewee import EXCLUDED

from models.customer import Customer
from models.customer_removal import removed_ids
from models.db import db, execute, placeholders, write_transaction
from models.stripe_account import LinkFence, StripeAccount
from models.stripe_object import pack, unpack
from models.user import utcnow
from sync.ordering import Decision, Source, Version, decide, deletion_kept, newer_condition


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


def _field(customer: Mapping, key: str):
    """Stripe sends null, and some callers "", for a missing name or email."""
    # StripeObject has no .get() since stripe-python 15, so test membership.
    value = customer[key] if key in customer else None  # noqa: SIM401
    if isinstance(value, str):
        value = value.replace("\x00", "")  # Postgres text cannot hold NUL
    return value or None


def _deleted_at(change: Change) -> datetime | None:
    if not change.deleted:
        return None
    return datetime.fromtimestamp(change.version.at, UTC).replace(tzinfo=None)


def _is_stub(change: Change) -> bool:
    # Retrieving a deleted customer returns a stub {id, object, deleted}: it can mark a
    # known row deleted but carries no fields.
    return "created" not in change.customer


def stripe_object(customer: Mapping, kept: str | None) -> str:
    """The stored form of Stripe's full customer object (models/stripe_object.py).

    Stripe sends ``tax_ids`` only when asked to expand them (the import and our
    retrieves do; webhook events never do), so an object without them keeps the tax
    ids of the object stored before (``kept``) rather than forgetting them."""
    obj = customer.to_dict() if hasattr(customer, "to_dict") else dict(customer)
    if "tax_ids" not in obj and kept is not None:
        previous = unpack(kept)
        if "tax_ids" in previous:
            obj["tax_ids"] = previous["tax_ids"]
    return pack(obj)


# The small queries around the upsert are written out (``execute``) rather than built by
# peewee: for one webhook event, building them cost more CPU than running them.


def _kept_objects(business_id: int, changes: list[Change]) -> dict[str, str]:
    """The stored objects of the customers whose incoming object lacks tax ids."""
    wanted = [c.customer["id"] for c in changes if "tax_ids" not in c.customer]
    if not wanted:
        return {}
    sql = (
        "SELECT stripe_customer_id, stripe_object FROM customer WHERE business_id = ?"
        f" AND stripe_customer_id IN ({placeholders(len(wanted))}) AND stripe_object IS NOT NULL"
    )
    return dict(execute(sql, (business_id, *wanted)).fetchall())


# The columns of the upsert's VALUES, in order: the ones a change writes (the keys of
# ``_fields``), then the ones set only when the row is inserted.
_WRITTEN = (
    "stripe_object",
    "name",
    "email",
    "customer_since",
    "stripe_version_at",
    "stripe_version_source",
    "updated_at",
)
_INSERTED = (*_WRITTEN, "deleted_in_stripe_at", "business", "stripe_customer_id", "created_at")


def _fields(change: Change, now: datetime, kept: dict[str, str]) -> dict:
    """The columns a change writes (``_WRITTEN``): what Stripe data lands in a row."""
    return {
        "stripe_object": stripe_object(change.customer, kept.get(change.customer["id"])),
        "name": _field(change.customer, "name"),
        "email": _field(change.customer, "email"),
        "customer_since": int(change.customer["created"]),
        "stripe_version_at": change.version.at,
        "stripe_version_source": int(change.version.source),
        "updated_at": now,
    }


def _rounds(changes: Sequence[Change]) -> list[list[Change]]:
    """Split a batch so no customer appears twice in one statement (an upsert may touch
    a row once), keeping each customer's changes in order."""
    rounds: list[list[Change]] = []
    seen: dict[str, int] = {}
    for change in changes:
        n = seen.get(change.customer["id"], 0)
        seen[change.customer["id"]] = n + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(change)
    return rounds


_RETURNED = (Customer.stripe_customer_id, Customer.created_at, Customer.deleted_in_stripe_at)


def _upsert_query(rows: list[tuple]):
    """The conditional upsert of ``rows`` (values in ``_INSERTED`` order), as peewee
    builds it: inserted, or updated where the ordering rule lets them win."""
    written = {getattr(Customer, column): EXCLUDED[column] for column in _WRITTEN}
    return (
        Customer.insert_many(rows, fields=[getattr(Customer, c) for c in _INSERTED])
        .on_conflict(
            conflict_target=[Customer.business, Customer.stripe_customer_id],
            update={**written, Customer.deleted_in_stripe_at: deletion_kept()},
            where=newer_condition(),
        )
        .returning(*_RETURNED)
    )


@functools.lru_cache(maxsize=256)
def _upsert_statement(backend: type, count: int) -> tuple[str, tuple]:
    """The SQL of ``_upsert_query`` for ``count`` rows on ``backend`` (the database's
    class: its placeholders and quoting), and the parameters after the rows' values.
    Rendered once per page size: building the query anew for every page of 100 rows
    cost more CPU than the database spent running it. The text does not depend on the
    values, which always become placeholders."""
    width = len(_INSERTED)
    sql, params = _upsert_query([(None,) * width] * count).sql()
    return sql, tuple(params[count * width :])


_CONVERTERS = tuple(getattr(Customer, column).db_value for column in _INSERTED)


def _upsert_sql(rows: list[tuple]) -> tuple[str, list]:
    """``_upsert_query(rows).sql()``, from the statement rendered once per size: the
    same text, and the same values converted by the same fields."""
    sql, tail = _upsert_statement(type(db.obj), len(rows))
    params = [
        convert(value) for row in rows for convert, value in zip(_CONVERTERS, row, strict=True)
    ]
    params.extend(tail)
    return sql, params


def _upsert(business_id: int, changes: list[Change], now: datetime) -> dict[str, tuple]:
    """One conditional upsert of full changes: inserted, or updated where the ordering
    rule lets them win. Returns {stripe id: (created_at, deleted_in_stripe_at)} of the
    rows it wrote. Rows go in Stripe-id order, so concurrent batches lock rows in one
    order and cannot deadlock."""
    kept = _kept_objects(business_id, changes)
    rows = []
    for change in sorted(changes, key=lambda c: c.customer["id"]):
        fields = _fields(change, now, kept)
        written = tuple(fields[column] for column in _WRITTEN)
        rows.append((*written, _deleted_at(change), business_id, change.customer["id"], now))
    created_at, deleted_at = (column.python_value for column in _RETURNED[1:])
    return {
        stripe_id: (created_at(created), deleted_at(deleted))
        for stripe_id, created, deleted in db.execute_sql(*_upsert_sql(rows)).fetchall()
    }


def _mark_deleted(business_id: int, stubs: list[Change], now: datetime) -> set[str]:
    """Rule 1 for deletion stubs: mark known, not yet deleted rows; returns their ids."""
    marked = set()
    for change in stubs:
        query = (
            Customer.update(deleted_in_stripe_at=_deleted_at(change), updated_at=now)
            .where(
                (Customer.business == business_id)
                & (Customer.stripe_customer_id == change.customer["id"])
                & Customer.deleted_in_stripe_at.is_null()
            )
            .returning(Customer.stripe_customer_id)
        )
        marked.update(stripe_id for (stripe_id,) in query.tuples())
    return marked


def _stored_versions(business_id: int, stripe_ids: list[str]) -> dict[str, tuple]:
    sql = (
        "SELECT stripe_customer_id, stripe_version_at, stripe_version_source,"
        " deleted_in_stripe_at IS NOT NULL FROM customer WHERE business_id = ?"
        f" AND stripe_customer_id IN ({placeholders(len(stripe_ids))})"
    )
    return {
        stripe_id: (Version(at, Source(source)) if at is not None else None, bool(deleted))
        for stripe_id, at, source, deleted in execute(sql, (business_id, *stripe_ids))
    }


def _apply_round(business_id: int, changes: list[Change], now: datetime, result, created):
    full = [c for c in changes if not _is_stub(c)]
    written = _upsert(business_id, full, now) if full else {}
    marked = _mark_deleted(business_id, [c for c in changes if _is_stub(c)], now)
    # Why a change did not land, from the row the statement left (on Postgres still
    # locked by it, so no other writer has changed it since).
    missed = [c.customer["id"] for c in full if c.customer["id"] not in written]
    stored = _stored_versions(business_id, missed) if missed else {}
    for change in changes:
        stripe_id = change.customer["id"]
        if _is_stub(change):
            if stripe_id in marked:
                result.deleted += 1
            else:
                result.skipped += 1
        elif stripe_id in written:
            created_at, deleted_at = written[stripe_id]
            if created_at == now and stripe_id not in created:
                created.add(stripe_id)
                if change.deleted:
                    result.deleted += 1
                else:
                    result.created += 1
            elif stripe_id in created:
                continue
            elif change.deleted and deleted_at == _deleted_at(change):
                result.deleted += 1
            else:
                result.updated += 1
        else:
            version, deleted = stored.get(stripe_id, (None, False))
            decision = decide(change.version, version, stored_deleted=deleted)
            if decision is Decision.TIE:
                result.ties.append(stripe_id)
            else:
                result.skipped += 1


def unchanged(business_id: int, customers: Sequence[Mapping]) -> set[str]:
    """The Stripe ids among ``customers`` whose row already holds exactly what writing
    them would store (``_fields``: name, email, customer since, the full object) — what
    a reconciliation finds in agreement with Stripe. A missing row, a row never given
    Stripe's object, or one marked deleted is not in agreement."""
    ids = [c["id"] for c in customers]
    if not ids:
        return set()
    rows = Customer.select(
        Customer.stripe_customer_id,
        Customer.name,
        Customer.email,
        Customer.customer_since,
        Customer.stripe_object,
    ).where(
        (Customer.business == business_id)
        & Customer.stripe_customer_id.in_(ids)
        & Customer.deleted_in_stripe_at.is_null()
        & Customer.stripe_object.is_null(False)
    )
    stored = {row.stripe_customer_id: row for row in rows}
    same = set()
    for customer in customers:
        row = stored.get(customer["id"])
        if row is None:
            continue
        since = calendar.timegm(row.customer_since.utctimetuple())
        fields = (_field(customer, "name"), _field(customer, "email"), int(customer["created"]))
        if fields != (row.name, row.email, since):
            continue
        if unpack(stripe_object(customer, row.stripe_object)) == unpack(row.stripe_object):
            same.add(customer["id"])
    return same


def apply_changes(
    business_id: int, changes: Sequence[Change], *, fence: LinkFence | None = None
) -> ApplyResult:
    """Apply ``changes`` to the business's rows in one write transaction, as one
    conditional upsert per batch (``INSERT … ON CONFLICT DO UPDATE … WHERE`` the
    incoming data is newer, sync/ordering.py): new customers are inserted, known ones
    updated only where the ordering rule allows, deletions marked (rows are never
    removed). Two writers in two processes cannot let older data win: each decides
    against the committed row under its lock. A customer removed from the list after
    its deletion in Stripe stays removed: its changes are skipped.

    With ``fence`` (the link the data was read for), nothing is written unless the
    business is still linked to that account by that same attach: ``StaleLink``
    otherwise, checked in the same transaction (models/stripe_account.py)."""
    result = ApplyResult()
    if fence is not None and fence.business_id != business_id:
        raise ValueError("the fence is another business's")
    if not changes and fence is None:
        return result
    now = utcnow()
    created: set[str] = set()
    with write_transaction():
        if fence is not None:
            StripeAccount.hold(fence)  # even for no changes: the caller's own writes
        removed = removed_ids(business_id, list({c.customer["id"] for c in changes}))
        if removed:
            kept = [c for c in changes if c.customer["id"] not in removed]
            result.skipped += len(changes) - len(kept)
            changes = kept
        for batch in _rounds(changes):
            _apply_round(business_id, batch, now, result, created)
    return result
