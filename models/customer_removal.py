"""Removing a customer that was deleted in Stripe from the owner's list.

The help page promises deleted customers "stay visible until support removes it";
owners may remove their own too. Only a row deleted in Stripe can go: a live synced
row is Stripe's data and the next event would only bring it back, and a row created in
ShingleAI is the owner's to keep. The row is deleted for real (the list's counts and
search follow through their triggers), the audit log keeps every field it had, and its
Stripe id is remembered so a late or replayed event never brings it back.
"""

from __future__ import annotations

from peewee import CharField, CompositeKey, DateTimeField, ForeignKeyField

from models.audit_log import AuditEntry
from models.business import Business
from models.customer import Customer
from models.db import BaseModel, execute, placeholders, write_transaction
from models.user import User, utcnow


class NotRemovable(Exception):
    """The row is not deleted in Stripe; the message says why it stays."""


class RemovedCustomer(BaseModel):
    """A Stripe customer removed from a business's list: never to be re-created."""

    business = ForeignKeyField(Business, on_delete="CASCADE")
    stripe_customer_id = CharField()
    removed_at = DateTimeField(default=utcnow)

    class Meta:
        primary_key = CompositeKey("business", "stripe_customer_id")


def removed_ids(business_id: int, stripe_ids: list[str]) -> set[str]:
    """Which of ``stripe_ids`` were removed from the business's list."""
    if not stripe_ids:
        return set()
    sql = (
        "SELECT stripe_customer_id FROM removed_customer"
        f" WHERE business_id = ? AND stripe_customer_id IN ({placeholders(len(stripe_ids))})"
    )
    return {stripe_id for (stripe_id,) in execute(sql, (business_id, *stripe_ids))}


def snapshot(customer: Customer) -> dict:
    """Everything the row held, for the audit log."""
    return {
        "customer_id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "stripe_customer_id": customer.stripe_customer_id,
        "customer_since": customer.customer_since.isoformat(),
        "created_at": customer.created_at.isoformat(),
        "updated_at": customer.updated_at.isoformat(),
        "deleted_in_stripe_at": customer.deleted_in_stripe_at.isoformat(),
        "stripe_object": customer.stripe_object,
    }


def check_removable(customer: Customer) -> None:
    if not customer.is_deleted_in_stripe:
        kind = "synced from Stripe" if customer.is_synced else "created in ShingleAI"
        raise NotRemovable(
            f"{customer.name or customer.email or 'This customer'} is {kind} and not deleted "
            "in Stripe, so it cannot be removed."
        )


def remove_deleted(business: Business, customer_id: int, actor: User) -> AuditEntry | None:
    """Remove the business's customer ``customer_id`` if it was deleted in Stripe, in
    one transaction with its audit entry and tombstone. None when the business has no
    such customer; ``NotRemovable`` when it is not deleted in Stripe."""
    with write_transaction():
        customer = Customer.get_for_business(business, customer_id)
        if customer is None:
            return None
        check_removable(customer)
        data = snapshot(customer)
        label = customer.name or customer.email or customer.stripe_customer_id or "a customer"
        entry = AuditEntry.write(
            actor,
            "customer.removed",
            f"Removed {label} (deleted in Stripe) from {business.name}'s list",
            business=business,
            details={"customer": data},
        )
        if customer.stripe_customer_id:
            RemovedCustomer.insert(
                business=business.id, stripe_customer_id=customer.stripe_customer_id
            ).on_conflict_ignore().execute()
        # The condition again, in the DELETE itself: a live row is never deleted here.
        Customer.delete().where(
            (Customer.id == customer.id)
            & (Customer.business == business.id)
            & Customer.deleted_in_stripe_at.is_null(False)
        ).execute()
    return entry
