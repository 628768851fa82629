"""Finding a business for support: by its name, its owner's email, a Stripe account it
is or was linked to, or one of its customers (Stripe id, ShingleAI id or email).

Every lookup walks an index: names and owner emails are short tables; customer
lookups seek the per-business indexes once per business (``business_id IN (…)``), and
a customer email goes through each business's part of the list's search index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.business import Business
from models.customer import Customer
from models.customer_list import search_backend
from models.link_history import LinkEvent
from models.stripe_account import StripeAccount
from models.user import OWNER, User

MIN_QUERY = 2
MAX_RESULTS = 50
# Customer emails matching a fragment, at most: enough to name their businesses.
MAX_CUSTOMER_MATCHES = 200


@dataclass
class Match:
    business: Business
    reasons: list[str] = field(default_factory=list)


def _all_businesses():
    return Business.select(Business.id)


def _by_name(q: str) -> dict[int, str]:
    query = Business.select(Business.id).where(Business.name.contains(q)).limit(MAX_RESULTS)
    return {row_id: "business name" for (row_id,) in query.tuples()}


def _by_owner_email(q: str) -> dict[int, str]:
    query = (
        Business.select(Business.id, User.email)
        .join(User)
        .where(User.email.contains(q.lower()) & (User.role == OWNER))
        .limit(MAX_RESULTS)
    )
    return {row_id: f"owner {email}" for row_id, email in query.tuples()}


def _by_account(q: str) -> dict[int, str]:
    found = {}
    past = LinkEvent.select(LinkEvent.business).where(LinkEvent.account_id == q).distinct()
    for (row_id,) in past.tuples():
        found[row_id] = f"was linked to {q}"
    for link in StripeAccount.select().where(StripeAccount.account_id == q):
        found[link.business_id] = f"Stripe account {q} ({link.status})"
    return found


def _by_customer(q: str) -> dict[int, str]:
    found = {}
    # Separate queries: OR-ed together, SQLite would scan every customer.
    by_stripe_id = Customer.select(Customer.business).where(
        Customer.business.in_(_all_businesses()) & (Customer.stripe_customer_id == q)
    )
    for (business_id,) in by_stripe_id.tuples():
        found[business_id] = f"customer {q}"
    if q.isdigit():
        row = Customer.select(Customer.business).where(Customer.id == int(q)).tuples().first()
        if row is not None:
            found.setdefault(row[0], f"customer #{q}")
    if "@" in q and len(q) >= 3:
        found.update((bid, reason) for bid, reason in _by_customer_email(q) if bid not in found)
    return found


def _by_customer_email(q: str) -> list[tuple[int, str]]:
    """Businesses with a customer whose email holds ``q``: the list's search index is
    scoped by business (so no search reveals another business's customers), so each
    business's part of it is read in turn, up to ``MAX_CUSTOMER_MATCHES`` customers."""
    search = search_backend()
    found: list[tuple[int, str]] = []
    budget = MAX_CUSTOMER_MATCHES
    for (business_id,) in _all_businesses().order_by(Business.id).tuples():
        ids = search.matching_ids(business_id, q) or []
        if not ids:
            continue
        rows = Customer.select(Customer.email).where(
            Customer.id.in_(ids[:budget]) & Customer.email.contains(q)
        )
        emails = [email for (email,) in rows.tuples()]
        if emails:
            found.append((business_id, f"customer {emails[0]}"))
            budget -= len(emails)
        if budget <= 0:
            break
    return found


def query_error(q: str) -> str | None:
    """Why ``q`` cannot be searched, or None. A number (a ShingleAI id) may be short."""
    if len(q.strip()) < MIN_QUERY and not q.strip().isdigit():
        return f"Type at least {MIN_QUERY} characters."
    return None


def find_businesses(q: str) -> list[Match]:
    """Businesses matching ``q`` in any way, each with what matched, by id."""
    q = q.strip()
    if query_error(q):
        return []
    matches: dict[int, Match] = {}
    for lookup in (_by_name, _by_owner_email, _by_account, _by_customer):
        for business_id, reason in lookup(q).items():
            matches.setdefault(business_id, Match(None)).reasons.append(reason)
    ids = sorted(matches)[:MAX_RESULTS]
    for business in Business.select(Business, User).join(User).where(Business.id.in_(ids)):
        matches[business.id].business = business
    return [matches[row_id] for row_id in ids if matches[row_id].business is not None]
