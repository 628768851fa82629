"""Fast, realistic fake customers: 100,000 in a couple of seconds.

Created dates are spread over the past few years with deliberate same-second clusters,
because those ties are exactly what breaks naive cursor or `created`-based sync code.
"""

from __future__ import annotations

import random
import time
from typing import Any

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


def fake_customers(n: int, *, rng: random.Random, now: int | None = None) -> list[dict[str, Any]]:
    """`n` customers sorted by `created` ascending, ~5% nameless and ~5% emailless."""
    now = int(now or time.time())
    span = 3 * 365 * 86400
    created: list[int] = []
    while len(created) < n:
        moment = now - rng.randrange(span)
        # About one in ten moments is a burst: several customers in the same second.
        burst = rng.randint(2, 5) if rng.random() < 0.1 else 1
        created.extend([moment] * min(burst, n - len(created)))
    created.sort()
    out = []
    for when in created:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        roll = rng.random()
        name = None if roll < 0.05 else f"{first} {last}"
        email = None if 0.05 <= roll < 0.10 else _email(first, last, rng)
        out.append(customer(new_id("cus_", rng=rng), when, email=email, name=name))
    return out


def _email(first: str, last: str, rng: random.Random) -> str:
    return f"{first.lower()}.{last.lower()}{rng.randrange(10000)}@{rng.choice(DOMAINS)}"
