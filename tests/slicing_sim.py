"""A deterministic stand-in for the import's threads, to drive ``sync.slices.Plan``
exactly as ``sync.import_pass.Pass`` does — workers take slices and fetch pages, one
writer commits them in order — over Stripe's list semantics as the sandbox implements
them (``stripe_sandbox.index.page``), with a seeded schedule instead of real threads.
A request is two steps, as over the network: Stripe answers it when it is sent, and
the worker hands the page to the plan later, so other workers may split its slice in
between. Property tests use it to try thousands of distributions and interleavings per
second, including crashes (resume from the last committed plan) and cursors that
vanish; every request's cursor is checked against its ``created`` range.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

from stripe_sandbox.index import created_bounds, page
from sync.slices import Plan

VANISH_MAX = 30


@dataclass
class Account:
    """Customers as ascending ``(created, seq, id)`` keys, like the sandbox's index."""

    keys: list = field(default_factory=list)
    deleted: set = field(default_factory=set)
    _live: tuple = (None, [])

    @classmethod
    def with_stamps(cls, stamps: list[int]) -> Account:
        return cls(sorted((c, i, f"cus_{i:06d}") for i, c in enumerate(stamps)))

    def live(self) -> list:
        if self._live[0] != len(self.deleted):
            self._live = (len(self.deleted), [k for k in self.keys if k[2] not in self.deleted])
        return self._live[1]

    def by_id(self) -> dict:
        if len(getattr(self, "_by_id", ())) != len(self.keys):
            self._by_id = {k[2]: k for k in self.keys}
        return self._by_id

    def list(self, params: dict) -> tuple[list[dict], bool]:
        """One list request; a vanished cursor raises KeyError (Stripe: 400)."""
        live = self.live()
        cursor = None
        if "starting_after" in params:
            after = params["starting_after"]
            if after in self.deleted:
                raise KeyError(after)
            cursor = self.by_id()[after]
        found, more = page(
            live,
            limit=params["limit"],
            created=created_bounds(params.get("created")),
            starting_after=cursor,
        )
        return [{"id": k[2], "created": k[0]} for k in found], more


@dataclass
class Outcome:
    requests: int = 0
    committed: set = field(default_factory=set)
    plans: list = field(default_factory=list)
    # Requests whose starting_after customer lies outside their created range.
    stray_cursors: list = field(default_factory=list)


def check(plan: Plan) -> None:
    """Raise AssertionError unless every cursor of the plan, committed or fetched, lies
    inside its slice's range."""
    for s, cursor in zip(plan.slices, plan._cursors, strict=True):
        for after, last, lt in ((s.after, s.last, s.lt), (cursor.after, cursor.last, cursor.lt)):
            if after is None:
                continue
            assert s.gte is None or last >= s.gte, (s, cursor)
            assert lt is None or last < lt, (s, cursor)


def _check_cursor(account: Account, params: dict, outcome: Outcome) -> None:
    after = params.get("starting_after")
    if after is None:
        return
    low, high = created_bounds(params.get("created"))
    created = account.by_id()[after][0]
    if (low is not None and created < low) or (high is not None and created >= high):
        outcome.stray_cursors.append(params)


def run(
    account: Account,
    *,
    workers: int,
    rng: random.Random,
    crash_at: int | None = None,
    vanish_every: int | None = None,
    outcome: Outcome | None = None,
    saved: str | None = None,
    lockstep: bool = False,
) -> Outcome:
    """Run the main pass to its end (or to step ``crash_at``, then resume from the last
    committed plan). ``vanish_every``: delete a random busy slice's cursor customer
    every so many steps. ``lockstep``: the actors take turns in a fixed order instead
    of at random — every request as slow as every other, as real threads against an
    evenly slow Stripe, a schedule that random turns rarely reach."""
    outcome = outcome or Outcome()
    plan = Plan.from_json(saved) if saved else Plan.whole()
    outcome.plans.append(plan)
    saved = plan.to_json()
    queue: deque = deque()  # (slice, customers, position), written in order
    busy: dict[int, int | None] = dict.fromkeys(range(workers))  # worker -> slice
    answers: dict[int, tuple] = {}  # worker -> (params, customers, has_more) in flight
    step = 0
    while True:
        check(plan)
        if plan.finished and not queue and all(i is None for i in busy.values()):
            return outcome
        step += 1
        if crash_at is not None and step == crash_at:
            # The process dies: fetched pages in the queue are lost.
            return run(
                account, workers=workers, rng=rng, outcome=outcome, saved=saved, lockstep=lockstep
            )
        if vanish_every and step % vanish_every == 0 and len(account.deleted) < VANISH_MAX:
            cursors = [plan._cursors[i].after for i in busy.values() if i is not None]
            if any(cursors):
                account.deleted.add(rng.choice([c for c in cursors if c]))
        actors = ["writer"] * bool(queue) + list(busy)
        actor = actors[step % len(actors)] if lockstep else rng.choice(actors)
        if actor == "writer":
            index, customers, position = queue.popleft()
            plan.committed(index, position)
            outcome.committed.update(c["id"] for c in customers)
            saved = plan.to_json()
            continue
        index = busy[actor]
        if index is None:
            busy[actor] = plan.take()
            continue
        if actor in answers:  # the answer arrives
            params, customers, more = answers.pop(actor)
            position = plan.fetched(index, params, customers, more)
            queue.append((index, customers[: position.kept], position))
            if position.done:
                busy[actor] = None
            continue
        params = plan.request(index)
        _check_cursor(account, params, outcome)
        outcome.requests += 1
        try:
            answers[actor] = (params, *account.list(params))
        except KeyError:
            plan.restart_at(index)
