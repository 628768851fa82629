"""Splitting a Stripe list into `created` slices that can be paged concurrently —
without asking Stripe for more pages than the customers need.

Pagination inside one list is strictly sequential (each page needs the previous
page's last id), so the import runs several lists at once, each over its own
``created`` range. The ranges always tile the whole time line, so correctness never
depends on where an edge falls; the edges only balance the work.

Every page of a slice but its last is full, so a plan of S slices over N customers
makes at most N/100 + S requests, and an unsplit one exactly max(1, ⌈N/100⌉). The plan
therefore starts as one slice over everything and splits only on evidence, under a
budget: S slices only once S x ``CUSTOMERS_PER_SPLIT`` customers have been fetched, so
S ≤ ⌊N/1000⌋ and the pass never exceeds ⌈N/100⌉ + ⌊N/1000⌋ ≤ 1.1 x ⌈N/100⌉ requests,
whatever the distribution of ``created`` — plus ``HEAD_START`` when the account's
newest page shows a long history (see there). Within the budget an idle worker splits
only what saves wall time: the slice with the most pages left, and only when it has
more than ``MIN_SPLIT_PAGES`` of them. A slice whose remaining range is one second is
never split — its cursor is simply followed.

A slice's cursor always lies inside its range: a split gives the thief the *lower*
part of the victim's range and leaves the victim its cursor's second and everything
above, and the thief starts without a cursor. A page the victim had asked for before
the split may reach below the new bound: its customers there are the thief's (the
victim neither writes them nor moves its cursor onto them), and the victim's range is
then exhausted, since a list page is contiguous. So no request ever carries a cursor
outside its ``created`` range, which Stripe does not promise to treat as a bare
position. The committed state (what ``to_json`` saves, with each page's transaction)
never runs ahead of the pages written: a bound narrowed by a fetch is committed with
the page fetched under it.

Every method takes the plan's lock: workers fetch, the single writer commits.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, fields

PAGE = 100  # Stripe's largest list page
# No Stripe object predates Stripe (2010-01-01): nothing to carve off below it.
STRIPE_EPOCH = 1_262_304_000
# The request budget: one slice (one partial page) per this many customers fetched
# keeps a split pass within 1.1 x ⌈N / 100⌉ requests.
CUSTOMERS_PER_SPLIT = 1000
# Halve a bounded slice only when it has more pages than this left (by its density).
MIN_SPLIT_PAGES = 4
# A slice with no lower bound keeps about this many pages when a thief takes the rest.
CARVE_PAGES = 20
# Ramping up one split per 1,000 customers takes ~5 s at Stripe's 150 ms a page, which
# costs a wide account a third of its import time. When the newest page alone spans
# more than HEAD_START_SPAN seconds the account's history is long, and the plan may
# split HEAD_START times more than its budget at once: at most that many requests more.
HEAD_START = 4
HEAD_START_SPAN = 3600


def list_params(gte: int | None, lt: int | None, after: str | None) -> dict:
    """The parameters of every customer list request the import makes (one place)."""
    params: dict = {"limit": PAGE}
    created = {k: v for k, v in (("gte", gte), ("lt", lt)) if v is not None}
    if created:
        params["created"] = created
    if after:
        params["starting_after"] = after
    return params


@dataclass
class Slice:
    """A ``created`` range [gte, lt) (None = unbounded) and its committed position:
    the ``starting_after`` cursor and ``created`` of the last committed page, the
    customers committed and the ``created`` of the first of them (its density)."""

    gte: int | None
    lt: int | None
    after: str | None = None
    last: int | None = None
    done: bool = False
    tail: bool = False
    fetched: int = 0
    first: int | None = None
    density: float | None = None  # customers per second, inherited from a split


@dataclass(frozen=True)
class Position:
    """Where a fetched page leaves its slice; committed with the page. ``kept``: how
    many of the page's customers (newest first) lie in the slice's range; the rest were
    handed to a thief while the request was in flight, and are not the page's to write."""

    after: str | None
    last: int | None
    done: bool
    lt: int | None
    fetched: int
    first: int | None
    kept: int = 0


@dataclass
class _Cursor:
    """Where a worker has *fetched* to; ahead of the committed position by the pages
    waiting for the writer. ``lt`` may be below the committed bound after a restart."""

    after: str | None
    last: int | None
    lt: int | None
    fetched: int = 0
    first: int | None = None
    taken: bool = False
    finished: bool = False


class Plan:
    def __init__(self, slices: list[Slice], *, head_start: int = 0):
        self.slices = slices
        self.head_start = head_start
        self._cursors = [
            _Cursor(s.after, s.last, s.lt, s.fetched, s.first, finished=s.done) for s in slices
        ]
        self._progress = 0
        self._lock = threading.Lock()

    @classmethod
    def whole(cls) -> Plan:
        """One slice over the whole time line: the pass starts as a plain list."""
        return cls([Slice(None, None)])

    @classmethod
    def from_json(cls, text: str) -> Plan:
        """A saved plan (also one saved by an older version: unknown keys ignored)."""
        known = {f.name for f in fields(Slice)}
        data = json.loads(text)
        slices = [Slice(**{k: v for k, v in s.items() if k in known}) for s in data["slices"]]
        return cls(slices, head_start=data.get("head_start", 0))

    def to_json(self) -> str:
        """The committed state only: what a resumed run may trust."""
        with self._lock:
            # vars(), not asdict(): asdict deep-copies, a measurable cost on every page.
            slices = [dict(vars(s)) for s in self.slices]
            return json.dumps({"head_start": self.head_start, "slices": slices})

    @property
    def main_done(self) -> bool:
        with self._lock:
            return all(s.done for s in self.slices if not s.tail)

    @property
    def has_tail(self) -> bool:
        with self._lock:
            return any(s.tail for s in self.slices)

    @property
    def tail_done(self) -> bool:
        with self._lock:
            return all(s.done for s in self.slices if s.tail)

    @property
    def finished(self) -> bool:
        """Every slice fetched to its end (the writer may still be committing)."""
        with self._lock:
            return all(cursor.finished for cursor in self._cursors)

    def add_tail(self, gte: int) -> None:
        """The final pass: customers created while the import ran are not on later
        pages of a newest-first list (facts.md gotcha 8)."""
        with self._lock:
            self.slices.append(Slice(gte, None, tail=True))
            self._cursors.append(_Cursor(None, None, None))

    # -- workers -----------------------------------------------------------------------
    def take(self) -> int | None:
        """A slice for an idle worker: an untaken one, else the lower part of the slice
        with the most pages left, when the budget allows and it saves time; None when
        nothing is worth a worker (yet)."""
        with self._lock:
            for i, cursor in enumerate(self._cursors):
                if not cursor.taken and not cursor.finished:
                    cursor.taken = True
                    return i
            return self._split()

    def request(self, i: int) -> dict:
        """The list parameters of the next page of slice ``i``."""
        with self._lock:
            cursor = self._cursors[i]
            return list_params(self.slices[i].gte, cursor.lt, cursor.after)

    def fetched(self, i: int, params: dict, items: list, has_more: bool) -> Position:
        """Advance the fetch cursor past a page fetched with ``params``; returns the
        position to commit with the page's first ``kept`` customers."""
        with self._lock:
            cursor = self._cursors[i]
            if len(self.slices) == 1 and not cursor.fetched and has_more:
                span = int(items[0]["created"]) - int(items[-1]["created"])
                self.head_start = HEAD_START if span > HEAD_START_SPAN else 0
            gte = self.slices[i].gte
            if gte is not None and items and int(items[-1]["created"]) < gte:
                # Split while in flight: the page reached the thief's range, so it holds
                # everything left of ours (see the module docstring).
                items = [c for c in items if int(c["created"]) >= gte]
                has_more = False
            if items:
                cursor.after, cursor.last = items[-1]["id"], int(items[-1]["created"])
                if cursor.first is None:
                    cursor.first = int(items[0]["created"])
                cursor.fetched += len(items)
            cursor.finished = not has_more
            lt = params.get("created", {}).get("lt")
            return Position(
                cursor.after,
                cursor.last,
                cursor.finished,
                lt,
                cursor.fetched,
                cursor.first,
                kept=len(items),
            )

    def restart_at(self, i: int) -> None:
        """The cursor customer vanished (Stripe rejects it): fetch on from its second
        without a cursor (re-reading that second is harmless: upserts). Only the fetch
        cursor narrows; the saved slice narrows when a page fetched so is committed."""
        with self._lock:
            cursor = self._cursors[i]
            if cursor.last is not None:
                cursor.lt = cursor.last + 1
            cursor.after = None

    # -- the writer --------------------------------------------------------------------
    def committed(self, i: int, position: Position) -> None:
        """Record a page as written (called inside the page's transaction)."""
        with self._lock:
            s = self.slices[i]
            s.after, s.last, s.done = position.after, position.last, position.done
            s.fetched, s.first = position.fetched, position.first
            if position.lt is not None and (s.lt is None or position.lt < s.lt):
                s.lt = position.lt

    def progress(self) -> int:
        """Thousandths done, an estimate (Stripe gives no total for a list): committed
        customers against those plus each open slice's remaining range at its density;
        an open range with no lower bound counts as much again as already committed.
        Never goes backwards."""
        with self._lock:
            done = sum(s.fetched for s in self.slices if not s.tail)
            left = 0.0
            for s in self.slices:
                if s.done or s.tail:
                    continue
                high = s.last if s.last is not None else (s.lt - 1 if s.lt is not None else None)
                density = self._density(s.fetched, s.first, s.last, s.density)
                if s.gte is None or high is None or density is None:
                    left += max(done, PAGE)
                else:
                    left += max(1.0, density * (high - s.gte + 1))
            estimate = int(1000 * done / (done + left)) if done + left else 0
            self._progress = max(self._progress, min(999, estimate))
            return self._progress

    # -- splitting ---------------------------------------------------------------------
    def _split(self) -> int | None:
        best, best_pages, best_at = None, float(MIN_SPLIT_PAGES), None
        affordable = {tail: self._affordable(tail) for tail in (False, True)}
        for i, cursor in enumerate(self._cursors):
            if cursor.finished or not affordable[self.slices[i].tail]:
                continue
            pages, at = self._split_point(i, cursor)
            if at is not None and pages > best_pages:
                best, best_pages, best_at = i, pages, at
        if best is None:
            return None
        victim = self.slices[best]
        cursor = self._cursors[best]
        density = self._density(cursor.fetched, cursor.first, cursor.last, victim.density)
        self.slices.append(Slice(victim.gte, best_at, tail=victim.tail, density=density))
        self._cursors.append(_Cursor(None, None, best_at, taken=True))
        victim.gte = best_at
        return len(self.slices) - 1

    def _affordable(self, tail: bool) -> bool:
        """One more slice of this phase stays within the request budget."""
        mine = [i for i, s in enumerate(self.slices) if s.tail == tail]
        fetched = sum(self._cursors[i].fetched for i in mine)
        extra = 0 if tail else self.head_start
        return len(mine) + 1 <= fetched // CUSTOMERS_PER_SPLIT + extra

    def _split_point(self, i: int, cursor: _Cursor) -> tuple[float, int | None]:
        """Pages expected left in slice ``i`` and where to cut it: the thief takes
        [gte, at), the victim keeps [at, …) with its cursor. (0, None): don't."""
        s = self.slices[i]
        high = cursor.last if cursor.last is not None else cursor.lt - 1 if cursor.lt else None
        density = self._density(cursor.fetched, cursor.first, cursor.last, s.density)
        if high is None or density is None:
            return 0.0, None  # nothing learnt yet: splitting would be a guess
        if s.gte is None:  # no lower bound: keep CARVE_PAGES, hand over the rest
            at = high + 1 - max(1, math.ceil(CARVE_PAGES * PAGE / density))
            return (math.inf, at) if at > STRIPE_EPOCH else (0.0, None)
        seconds = high - s.gte + 1
        if seconds < 2:
            return 0.0, None  # one second: follow the cursor
        return density * seconds / PAGE, s.gte + seconds // 2

    @staticmethod
    def _density(fetched: int, first: int | None, last: int | None, inherited) -> float | None:
        """Customers per second seen in a slice, else the one inherited at its split."""
        if fetched and first is not None and last is not None:
            return fetched / (first - last + 1)
        return inherited
