"""The benchmark's event stream: what Stripe would send for the sandbox's customers,
ending in exactly the state the sandbox holds (its name, email and deletion)."""

from __future__ import annotations

import json
import random
import time

import stripe

SECRET = "whsec_bench"
API_VERSION = "2026-10-28.endive"


def _version(customer: dict, k: int | None) -> dict:
    """The customer's object at update ``k``; None is its final (sandbox) state."""
    obj = dict(customer["obj"])
    if k is not None:
        obj["name"] = f"{customer['name'] or 'Someone'} (v{k})"
        obj["email"] = f"v{k}.{customer['email'] or 'x@example.com'}"
    return obj


def _event(account: str, kind: str, obj: dict, created: int, serial: int) -> bytes:
    event = {
        "id": f"evt_bench{serial:09d}",
        "object": "event",
        "account": account,
        "api_version": API_VERSION,
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }
    return json.dumps(event, separators=(",", ":")).encode()


def _stamps(created: int, count: int, tie: bool, rng: random.Random) -> list[int]:
    """Whole-second stamps for the updates after creation: distinct, increasing, in the
    past (so Stripe's clock has passed them), the first equal to ``created`` on a tie."""
    latest = int(time.time()) - 120
    span = max(count + 1, min(30 * 86400, latest - created))
    offsets = sorted(rng.sample(range(1, span), count))
    stamps = [min(created + o, latest) for o in offsets]
    if tie:
        stamps[0] = created
    return stamps


def build_stream(account, customers, total, duplicate_share, tie_rate, rng):
    """``total`` event bodies (shuffled, ``duplicate_share`` of them repeated) and the
    number of customers whose first update shares their creation second."""
    unique = round(total * (1 - duplicate_share))
    deleted = sum(c["deleted"] for c in customers)
    extra = unique - 3 * len(customers) - deleted
    if not 0 <= extra <= len(customers):
        raise SystemExit(f"{total} events do not fit {len(customers)} customers")
    third = set(rng.sample(range(len(customers)), extra))
    bodies, ties, serial = [], 0, 0
    for index, customer in enumerate(customers):
        updates = 3 if index in third else 2
        tie = rng.random() < tie_rate
        ties += tie
        stamps = _stamps(customer["created"], updates + customer["deleted"], tie, rng)
        kinds = [("customer.created", _version(customer, 0), customer["created"])]
        for k in range(1, updates + 1):
            final = k == updates
            kinds.append(
                ("customer.updated", _version(customer, None if final else k), stamps[k - 1])
            )
        if customer["deleted"]:
            kinds.append(("customer.deleted", _version(customer, None), stamps[-1]))
        for kind, obj, created in kinds:
            serial += 1
            bodies.append(_event(account, kind, obj, created, serial))
    bodies += rng.sample(bodies, total - len(bodies))
    rng.shuffle(bodies)
    return bodies, ties


def sign_stream(bodies: list[bytes], host: tuple[str, int]) -> list[tuple[bytes, dict]]:
    """Signed now, as Stripe signs each delivery (the tolerance is 5 minutes)."""
    now = int(time.time())
    headers = {"Content-Type": "application/json; charset=utf-8", "Host": f"{host[0]}:{host[1]}"}
    return [
        (
            body,
            {
                **headers,
                "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
                    body.decode(), SECRET, timestamp=now
                ),
            },
        )
        for body in bodies
    ]


def probe_event(account: str, serial: int) -> tuple[str, bytes, dict]:
    """A brand-new customer (newest, so first in the list) for the visibility probe."""
    now = int(time.time())
    cid = f"cus_probe{serial:06d}"
    obj = {
        "id": cid,
        "object": "customer",
        "name": f"Probe {serial}",
        "email": None,
        "created": now,
    }
    body = _event(account, "customer.created", obj, now, 900_000_000 + serial)
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET, now)
    return cid, body, {"Content-Type": "application/json", "Stripe-Signature": header}
