"""Fast, realistic fake customers: 100,000 in a couple of seconds.

Created dates are spread over the past few years with deliberate same-second clusters,
because those ties are exactly what breaks naive cursor or `created`-based sync code.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from stripe_sandbox.fake_details import add_details
from stripe_sandbox.objects import customer, new_id

FIRST = [
    "Ada",
    "Alan",
    "Amara",
    "Ana",
    "Ben",
    "Bianca",
    "Carlos",
    "Chen",
    "Chloe",
    "Dana",
    "David",
    "Elena",
    "Emma",
    "Farah",
    "Felix",
    "Grace",
    "Hana",
    "Hugo",
    "Ines",
    "Isaac",
    "Jade",
    "James",
    "Jonas",
    "Julia",
    "Kai",
    "Kenji",
    "Lara",
    "Leo",
    "Lina",
    "Lucas",
    "Maya",
    "Mateo",
    "Mei",
    "Nadia",
    "Noah",
    "Nora",
    "Olga",
    "Omar",
    "Paula",
    "Priya",
    "Quinn",
    "Rafael",
    "Rosa",
    "Sam",
    "Sara",
    "Sofia",
    "Tariq",
    "Theo",
    "Uma",
    "Victor",
    "Wei",
    "Yara",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Adams",
    "Ahmed",
    "Alvarez",
    "Becker",
    "Brown",
    "Chen",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Gupta",
    "Hansen",
    "Ibrahim",
    "Ito",
    "Jensen",
    "Kim",
    "Kowalski",
    "Lee",
    "Lopez",
    "Martin",
    "Meyer",
    "Moreau",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "Olsen",
    "Patel",
    "Perez",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Smith",
    "Sato",
    "Tanaka",
    "Taylor",
    "Walker",
    "Wang",
    "Weber",
    "Williams",
    "Wilson",
    "Young",
    "Zhang",
]
DOMAINS = ["example.com", "example.org", "mail.test", "shop.test", "inbox.test"]


def fake_customers(
    n: int, *, rng: random.Random, now: int | None = None, stamps: list[int] | None = None
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """`n` customers sorted by `created` ascending, ~5% nameless and ~5% emailless, with
    the realistic mix of other fields of fake_details.py; and their tax ids by id. With
    ``stamps``, one customer per given `created` stamp instead (``n`` ignored) — how
    tests and benchmarks lay out a particular distribution in time.

    Draws use `rng.random()` scaled to an index: `choice`/`randrange` cost several
    times more and dominated the 100,000-customer seed.
    """
    now = int(now or time.time())
    span = 3 * 365 * 86400
    rand = rng.random
    created: list[int] = [int(s) for s in stamps] if stamps is not None else []
    while stamps is None and len(created) < n:
        moment = now - int(rand() * span)
        # About one in ten moments is a burst: several customers in the same second.
        burst = 2 + int(rand() * 4) if rand() < 0.1 else 1
        created.extend([moment] * min(burst, n - len(created)))
    created.sort()
    out = []
    taxes: dict[str, list[dict[str, Any]]] = {}
    for when in created:
        first = FIRST[int(rand() * len(FIRST))]
        last = LAST[int(rand() * len(LAST))]
        roll = rand()
        name = None if roll < 0.05 else f"{first} {last}"
        email = None
        if not 0.05 <= roll < 0.10:
            domain = DOMAINS[int(rand() * len(DOMAINS))]
            email = f"{first.lower()}.{last.lower()}{int(rand() * 10000)}@{domain}"
        cust = customer(new_id("cus_", rng=rng), when, email=email, name=name)
        ids = add_details(cust, rand)
        if ids:
            taxes[cust["id"]] = ids
        out.append(cust)
    return out, taxes


@contextmanager
def paused_gc() -> Iterator[None]:
    """Allocating 100,000 dicts triggers many useless cyclic-GC passes; skip them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
