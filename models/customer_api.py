"""What the JSON API and the MCP server can do with a business's customers: list,
read, create direct (not-synced) customers and edit names and emails. Both
interfaces call these functions, so they share every rule and message."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from peewee import Tuple

from models.api_errors import ApiError
from models.business import Business
from models.customer import SYNC_FILTERS, Customer, validate_fields
from models.customer_list import search_backend
from models.customer_search import clean_query
from models.db import (
    StatementTimeout,
    lock_rows,
    statement_time_limit,
    table_hint,
    write_transaction,
)
from models.idempotency import Outcome, fingerprint, run_once
from models.stripe_object import unpack
from models.user import utcnow

LIMIT_DEFAULT, LIMIT_MAX = 50, 100
# How long one list request's queries may run (the app's LIST_TIME_LIMIT_MS).
LIST_TIME_LIMIT_MS = 300
INT64_MAX = 2**63 - 1
EDITABLE = ("name", "email")
CUSTOMER_FIELDS = (
    "id",
    "name",
    "email",
    "stripe_customer_id",
    "stripeCustomerId",
    "synced",
    "deleted_in_stripe",
    "customer_since",
    "created_at",
    "updated_at",
)
SYNCED_EDIT_WARNING = (
    "This customer is synced from Stripe: the change is kept in ShingleAI only, is not "
    "sent to Stripe, and Stripe's next change to this customer overwrites it."
)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, to the second; stored times are naive UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC, microsecond=0).isoformat().replace("+00:00", "Z")


EXPANDABLE = ("stripe",)


def customer_json(customer: Customer, *, stripe: bool = False) -> dict:
    """The one JSON form of a customer, for the API and MCP alike. Field names are
    snake_case, as in Stripe's own objects; ``stripeCustomerId`` repeats
    ``stripe_customer_id`` under the name the help page gives it. With ``stripe``,
    Stripe's full customer object as last synced (None when there is none yet)."""
    answer = {
        "id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "stripe_customer_id": customer.stripe_customer_id,
        "stripeCustomerId": customer.stripe_customer_id,
        "synced": customer.is_synced,
        "deleted_in_stripe": customer.is_deleted_in_stripe,
        "customer_since": iso(customer.customer_since),
        "created_at": iso(customer.created_at),
        "updated_at": iso(customer.updated_at),
    }
    if stripe:
        answer["stripe"] = unpack(customer.stripe_object)
    return answer


def parse_expand(value: str | None) -> bool:
    """Whether a list asks for Stripe's objects (``expand=stripe``); lists stay lean
    otherwise."""
    if value is None:
        return False
    if value not in EXPANDABLE:
        message = f"expand must be one of: {', '.join(EXPANDABLE)}."
        raise ApiError(400, "invalid_parameter", message, "expand")
    return True


@dataclass(frozen=True)
class Page:
    data: list[dict]
    has_more: bool
    next_cursor: str | None

    def to_json(self) -> dict:
        return {"data": self.data, "has_more": self.has_more, "next_cursor": self.next_cursor}


def encode_cursor(since: int, row_id: int) -> str:
    """The opaque cursor that continues a list after the row (since, id)."""
    raw = json.dumps([since, row_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        since, row_id = json.loads(raw)
        in_range = type(since) is int and type(row_id) is int
        if in_range and abs(since) <= INT64_MAX and 0 <= row_id <= INT64_MAX:
            return since, row_id
    except (binascii.Error, ValueError, TypeError):
        pass
    raise ApiError(400, "invalid_cursor", "This cursor is not one the API gave out.", "cursor")


def parse_limit(value: str | int | None) -> int:
    if value is None:
        return LIMIT_DEFAULT
    try:
        limit = int(value)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= LIMIT_MAX or isinstance(value, bool):
        message = f"limit must be a whole number from 1 to {LIMIT_MAX}."
        raise ApiError(400, "invalid_parameter", message, "limit")
    return limit


def list_customers(
    business_id: int,
    *,
    sync: str = "all",
    q: str = "",
    cursor: str | None = None,
    limit: str | int | None = None,
    expand: str | None = None,
    time_limit_ms: float = LIST_TIME_LIMIT_MS,
) -> Page:
    """One page of customers, newest Customer since first (ties by id), after
    ``cursor``; the page's ``next_cursor`` continues it. ``expand="stripe"`` adds each
    customer's Stripe object. A search (name, email, phone, metadata values) that
    cannot finish within ``time_limit_ms`` answers 400 ``search_too_slow``."""
    if sync not in SYNC_FILTERS:
        raise ApiError(
            400, "invalid_parameter", f"sync must be one of: {', '.join(SYNC_FILTERS)}.", "sync"
        )
    size = parse_limit(limit)
    with_stripe = parse_expand(expand)
    after = _decode_cursor(cursor) if cursor else None
    if isinstance(q, str) and "\x00" in q:
        raise ApiError(400, "invalid_parameter", "q must not contain a NUL character.", "q")
    q = clean_query(q if isinstance(q, str) else "")
    try:
        with statement_time_limit(time_limit_ms):
            ids = search_backend().matching_ids(business_id, q) if q else None
            rows = list(_page_query(business_id, sync, q, ids, after).limit(size + 1))
    except StatementTimeout:
        message = "This search took too long: refine it (more characters, or a sync filter)."
        raise ApiError(400, "search_too_slow", message, "q") from None
    has_more = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if has_more:
        last = rows[-1]
        next_cursor = encode_cursor(
            int(last.customer_since.replace(tzinfo=UTC).timestamp()), last.id
        )
    return Page([customer_json(row, stripe=with_stripe) for row in rows], has_more, next_cursor)


def _page_query(business_id: int, sync: str, q: str, ids: list[int] | None, after):
    """The business's rows in list order, filtered, searched and after ``after``."""
    if q and ids is not None:
        # The few exact matches by rowid: NOT INDEXED keeps SQLite from walking the
        # business's list index to test each row against the id list.
        query = Customer.select().from_(table_hint("customer", "t1", None))
        query = query.where(Customer.id.in_(ids) & (Customer.business == business_id))
    else:
        query = Customer.for_business(business_id)
        if q:
            query = query.where(search_backend().walk_condition(q))
    condition = Customer.sync_condition(sync)
    if condition is not None:
        query = query.where(condition)
    if after is not None:
        # A row-value comparison lets SQLite seek the list index to the cursor.
        query = query.where(Tuple(Customer.customer_since, Customer.id) < Tuple(*after))
    return query.order_by(Customer.customer_since.desc(), Customer.id.desc())


def get_customer(business_id: int, customer_id: int) -> Customer:
    """The business's customer, or a 404: another business's rows do not exist here."""
    # Beyond SQLite's integers no row can exist (and the driver would overflow).
    in_range = 0 < customer_id < 2**63
    customer = Customer.get_for_business(business_id, customer_id) if in_range else None
    if customer is None:
        raise ApiError(404, "not_found", f"No customer with id {customer_id}.", "id")
    return customer


def clean_params(params: object) -> dict[str, str]:
    """The editable fields of a request body: an object of strings, nothing else."""
    if not isinstance(params, Mapping):
        raise ApiError(400, "invalid_body", 'Send a JSON object, such as {"name": …}.')
    for key in params:
        if key not in EDITABLE:
            raise ApiError(400, "unknown_parameter", f"Unknown parameter {key!r}.", str(key))
    for key in EDITABLE:
        if key in params and not isinstance(params[key], str):
            raise ApiError(400, "invalid_parameter", f"{key} must be a string.", key)
    return dict(params)


def _check(fields: dict[str, str], provided: tuple[str, ...]) -> None:
    errors = validate_fields(fields.get("name"), fields.get("email"))
    for key in EDITABLE:
        if key in errors and key in provided:
            raise ApiError(422, "validation_error", errors[key], key)


def _same_email(business_id: int, email: str, *, other_than: int | None = None) -> Customer | None:
    """The business's customer with this email, ignoring case. Called in a write
    transaction before writing an email: the business's row is locked first, so two
    such checks of one business take turns and cannot both find the email free."""
    lock_rows(Business.select(Business.id).where(Business.id == business_id))
    return Customer.holding_email(business_id, email, other_than=other_than)


def _duplicate(existing: Customer) -> ApiError:
    return ApiError(
        409,
        "email_taken",
        f"Customer {existing.id} already has this email address.",
        "email",
        customer_id=existing.id,
    )


def create_customer(
    business_id: int,
    params: object,
    *,
    idempotency_key: str | None = None,
    token_id: int | None = None,
) -> Outcome:
    """Create a not-synced customer (Customer since = now). A duplicate email
    answers 409; with ``idempotency_key`` the first answer is replayed on retries."""
    fields = clean_params(params)
    _check(fields, EDITABLE)
    name, email = fields["name"].strip(), fields["email"].strip()

    def work() -> Outcome:
        existing = _same_email(business_id, email)
        if existing is not None:
            error = _duplicate(existing)
            return Outcome(error.status, error.to_json())
        now = utcnow()
        customer = Customer.create(
            business=business_id,
            name=name,
            email=email,
            customer_since=now.replace(tzinfo=UTC),
            created_at=now,
            updated_at=now,
        )
        return Outcome(201, customer_json(customer, stripe=True))

    if idempotency_key is None:
        with write_transaction():
            return work()
    request = fingerprint("create_customer", fields)
    return run_once(business_id, idempotency_key, request, work, token_id=token_id)


def update_customer(business_id: int, customer_id: int, params: object) -> dict:
    """Change a customer's name and/or email in ShingleAI. Synced rows may be edited
    too, but the edit is never pushed to Stripe and the answer warns that Stripe's
    next change overwrites it; the row's Stripe version is left alone so that
    change still applies."""
    fields = clean_params(params)
    provided = tuple(key for key in EDITABLE if key in fields)
    if not provided:
        raise ApiError(400, "invalid_body", "Send name, email or both.")
    with write_transaction():
        customer = get_customer(business_id, customer_id)
        merged = {"name": customer.name, "email": customer.email, **fields}
        _check(merged, provided)
        values = {key: fields[key].strip() for key in provided}
        if "email" in values:
            existing = _same_email(business_id, values["email"], other_than=customer.id)
            if existing is not None:
                raise _duplicate(existing)
        values["updated_at"] = utcnow()
        Customer.update(values).where(Customer.id == customer.id).execute()
    answer = customer_json(Customer.get_by_id(customer.id), stripe=True)
    if customer.is_synced and not customer.is_deleted_in_stripe:
        answer["warning"] = SYNCED_EDIT_WARNING
    return answer
