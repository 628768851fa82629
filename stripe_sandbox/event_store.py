"""The events part of the sandbox's Store: `GET /v1/events` and `/v1/events/{id}` as
Stripe documents them, and old events seeded through the control API. A mixin of
`Store`, under its lock.

Stripe keeps events for 30 days: older ones are neither listed nor retrievable (a
cursor naming one is unknown too). The sandbox has no test clock, so tests reach the
edge of that window by seeding events with an old `created` (`seed_event`).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from stripe_sandbox import errors, objects
from stripe_sandbox.index import Key, created_bounds, page

RETENTION_S = 30 * 24 * 3600
# Event types `seed_event` can make, and the object each carries.
SEEDABLE = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "account.application.deauthorized",
)


def oldest_kept(now: float | None = None) -> int:
    """The oldest `created` second Stripe still holds events for."""
    return int(now if now is not None else time.time()) - RETENTION_S


def type_matches(event_type: str, pattern: str) -> bool:
    """`type`'s rule: an exact name, or a group with `*` as a wildcard (`customer.*`
    takes `customer.tax_id.created` too; `*` alone takes everything)."""
    if "*" not in pattern:
        return event_type == pattern
    head, _, tail = pattern.partition("*")
    return event_type.startswith(head) and event_type.endswith(tail)


class EventMethods:
    """Expects the Store's `lock`, `account()`, `_changed()` and `_emit()`."""

    def list_events(
        self,
        account_id: str,
        params: dict[str, Any],
        delivered: Callable[[str], bool] | None = None,
    ) -> tuple[list[bytes], bool]:
        """A page of the account's events, newest first. `params` are checked by the
        API (`type` or `types`, `created`, cursors, `limit`); `delivered` answers
        `delivery_success` for an event id."""
        with self.lock:
            account = self.account(account_id)
            floor = oldest_kept()
            keys = account.event_index.keys
            start = _first_at_or_after(keys, floor)
            keys = keys[start:]
            events = account.events
            if "type" in params:
                keys = [k for k in keys if type_matches(events[k[2]]["type"], params["type"])]
            if "types" in params:
                wanted = set(params["types"])
                keys = [k for k in keys if events[k[2]]["type"] in wanted]
            if delivered is not None and "delivery_success" in params:
                want = params["delivery_success"]
                keys = [k for k in keys if delivered(k[2]) is want]
            cursors = {}
            for name in ("starting_after", "ending_before"):
                if params.get(name):
                    evt = account.events.get(params[name])
                    if evt is None or evt["created"] < floor:
                        raise errors.no_such("event", params[name], name)
                    cursors[name] = self._event_key(account, evt)
            low, high = created_bounds(params.get("created"))
            found, has_more = page(
                keys,
                limit=params["limit"],
                created=(max(low, floor) if low is not None else floor, high),
                starting_after=cursors.get("starting_after"),
                ending_before=cursors.get("ending_before"),
            )
            return [account.event_raw[k[2]] for k in found], has_more

    def retrieve_event(self, account_id: str, eid: str) -> bytes:
        """One event, if it is younger than 30 days (Stripe: "if it was created in the
        last 30 days")."""
        with self.lock:
            account = self.account(account_id)
            evt = account.events.get(eid)
            if evt is None or evt["created"] < oldest_kept():
                raise errors.no_such("event", eid)
            return account.event_raw[eid]

    def recent_events(self, account_id: str, n: int = 20) -> list[dict[str, Any]]:
        with self.lock:
            account = self.account(account_id)
            return [account.events[k[2]] for k in account.event_index.keys[-n:][::-1]]

    def seed_event(
        self, account_id: str, event_type: str, created: int, customer: str | None = None
    ) -> dict[str, Any]:
        """Record an event as if Stripe had made it at second `created`, without
        delivering it (it is history: its deliveries ended long ago). A customer event
        carries the named customer as it is now, or a new made-up one."""
        if event_type not in SEEDABLE:
            raise errors.StripeError(400, f"cannot seed {event_type}", param="type")
        with self.lock:
            account = self.account(account_id)
            if event_type == "account.application.deauthorized":
                obj = objects.application(self.settings.client_id, self.settings.platform_name)
            elif customer is not None:
                if customer not in account.customers:
                    raise errors.no_such("customer", customer, "customer")
                obj = dict(account.customers[customer])
            else:
                obj = objects.customer(objects.new_id("cus_"), created, name="Seeded Customer")
            return self._emit(account, event_type, obj, created=created, deliver=False)

    def _event_key(self, account, evt: dict[str, Any]) -> Key:
        keys = account.event_index.keys
        i = _first_at_or_after(keys, evt["created"])
        while keys[i][2] != evt["id"]:
            i += 1
        return keys[i]


def _first_at_or_after(keys: list[Key], second: int) -> int:
    return bisect_left(keys, (second,))
