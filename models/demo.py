"""Demo data: an owner with realistic customers, so the list can be tried (and
benchmarked) before Stripe is connected."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

from peewee import chunked

from models.business import Business
from models.customer import Customer
from models.db import db, execute
from models.stripe_object import pack
from models.user import User, utcnow
from stripe_sandbox import objects, tax_ids
from stripe_sandbox.fake_details import add_details

DEMO_EMAIL = "demo@shingleai.test"
DEMO_PASSWORD = "shingle-demo"
# Share of rows by sync state; the rest are synced and current.
NOT_SYNCED_SHARE = 0.2
DELETED_SHARE = 0.05
_YEARS = 6 * 365 * 24 * 3600
# SQLite allows 32,766 bound values per statement: 11 columns x 2,900 rows stays below.
_CHUNK = 2900
_FIRST = (  # noqa: SIM905 - a word list reads better as text
    "Ada Alan Amara Anika Ben Bianca Carlos Chen Chloe Dmitri Elena Emeka Fatima Finn "
    "Grace Hana Hugo Ines Isaac Jamal Jana Jonas Kai Keiko Lars Leila Luca Maya Mateo Mei "
    "Nadia Nils Noor Olga Omar Pablo Priya Quinn Rafael Rosa Sami Sara Tomas Uma Vera Wei "
    "Yara Yusuf Zoe Zain"
).split()
_LAST = (  # noqa: SIM905 - a word list reads better as text
    "Abara Becker Castillo Dubois Eriksen Fischer Garcia Haddad Ivanova Jensen Kowalski "
    "Lovelace Moreau Nakamura Okafor Petrov Quintero Rossi Santos Tanaka Ueda Varga Weber "
    "Xu Yilmaz Zhang Andersen Bianchi Chowdhury Delacroix Esposito Ferreira Gupta "
    "Hoffmann Iglesias Johansson Kim Lindqvist Mendoza Novak Olsen Park Rahman Schmidt "
    "Takahashi Van Dijk Wagner Young Zimmermann Murphy"
).split()
_DOMAINS = (  # noqa: SIM905 - a word list reads better as text
    "example.com mail.test roofing.test shingle.test inbox.test"
).split()
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _stripe_id(n: int) -> str:
    """A Stripe-looking id, unique per n: an odd multiplier not divisible by 31 is a
    bijection modulo 62**14, so distinct n never collide."""
    value = (n * 25_214_903_917 + 11) % 62**14
    digits = []
    for _ in range(14):
        value, digit = divmod(value, 62)
        digits.append(_BASE62[digit])
    return "cus_" + "".join(digits)


def stripe_object(stripe_id: str, since: int, name: str, email: str, rand) -> str:
    """The stored Stripe object of a demo customer: the sandbox's realistic mix of
    phones, addresses, tax ids, balances and metadata, tax ids expanded as the
    import fetches them."""
    cust = objects.customer(stripe_id, since, email=email, name=name)
    found = add_details(cust, rand)
    cust["tax_ids"] = tax_ids.as_list(stripe_id, found)
    return pack(cust)


def customer_rows(
    business_id: int, n: int, *, seed: int = 0, local_only: bool = False
) -> Iterator[tuple]:
    """``n`` rows of database values, in the order of ``ROW_FIELDS``; with
    ``local_only`` every row is one created in ShingleAI (no Stripe id)."""
    rng = random.Random(seed * 1_000_003 + business_id)
    now = str(utcnow())  # as DateTimeField stores it
    newest = int(time.time())
    # Newest first, as Stripe lists them to the import: the list indexes then grow at
    # one end instead of being written all over.
    sinces = sorted((newest - rng.randrange(_YEARS) for _ in range(n)), reverse=True)
    for i, since in enumerate(sinces):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        email = f"{first}.{last.replace(' ', '')}{i}@{rng.choice(_DOMAINS)}".lower()
        roll = rng.random()
        stripe_id = deleted = obj = None
        version_at = version_source = None
        if roll >= NOT_SYNCED_SHARE and not local_only:
            stripe_id = _stripe_id(business_id * 10**9 + i)
            version_at, version_source = since, 0
            obj = stripe_object(stripe_id, since, f"{first} {last}", email, rng.random)
            if roll < NOT_SYNCED_SHARE + DELETED_SHARE:
                deleted = now
        yield (
            business_id,
            f"{first} {last}",
            email,
            stripe_id,
            since,
            now,
            now,
            deleted,
            version_at,
            version_source,
            obj,
        )


ROW_FIELDS = [
    Customer.business,
    Customer.name,
    Customer.email,
    Customer.stripe_customer_id,
    Customer.customer_since,
    Customer.created_at,
    Customer.updated_at,
    Customer.deleted_in_stripe_at,
    Customer.stripe_version_at,
    Customer.stripe_version_source,
    Customer.stripe_object,
]


def seed_customers(business_id: int, n: int, *, seed: int = 0, local_only: bool = False) -> None:
    """Insert ``n`` demo customers in one transaction, a few thousand rows per INSERT.

    Multi-row statements matter: SQLite's FTS5 flushes its pending index at the end of
    every statement, so row-at-a-time inserts (``executemany``) are four times slower.
    The rows already hold database values, so the SQL is built here rather than by
    ``insert_many``, which spends longer converting a million rows' values than SQLite
    spends storing them."""
    columns = ", ".join(field.column_name for field in ROW_FIELDS)
    one_row = "(" + ", ".join("?" for _ in ROW_FIELDS) + ")"
    insert = f"INSERT INTO {Customer._meta.table_name} ({columns}) VALUES "
    with db.atomic():
        rows = customer_rows(business_id, n, seed=seed, local_only=local_only)
        for chunk in chunked(rows, _CHUNK):
            values = ", ".join([one_row] * len(chunk))
            execute(insert + values, [value for row in chunk for value in row])


def create_demo(
    customers: int, *, other_customers: int | None = None, local_only: bool = False
) -> User:
    """The demo owner, a primary business with ``customers`` rows and a second business
    (whose rows must never show on the primary's list). ``local_only`` rows are all
    created in ShingleAI: synced rows must then come from a real (sandbox) Stripe
    account, so their badges and Stripe ids are true."""
    with db.atomic():
        user = User.create_owner(DEMO_EMAIL, DEMO_PASSWORD, "Shingle Roofing Co.")
        side = Business.create(owner=user, name="Gutter Side Project", is_primary=False)
        seed_customers(Business.primary_for(user).id, customers, local_only=local_only)
        extra = max(10, customers // 10) if other_customers is None else other_customers
        seed_customers(side.id, extra, local_only=local_only)
    return user
