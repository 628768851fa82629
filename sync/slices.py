"""Splitting a Stripe list into `created` slices that can be paged concurrently.

Pagination inside one list is strictly sequential (each page needs the previous
page's last id), so the import runs several lists at once, each over its own
``created`` range. The ranges tile the whole time line — the oldest slice has no
lower bound and the newest no upper bound — so correctness never depends on where we
guessed the edges. The guesses only balance the work, and a worker that runs out of
slices steals half of the remaining range of the busiest one (work stealing), which
also evens out accounts whose customers bunch up in time.

Every method takes the plan's lock: workers fetch, the single writer commits.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass

# No Stripe object predates Stripe (2010-01-01); only a balancing guess, never a bound.
STRIPE_EPOCH = 1_262_304_000
# Split a running slice only when at least this many customers are left in it.
MIN_STEAL = 200


@dataclass
class Slice:
    """A ``created`` range [gte, lt) (None = unbounded) and its committed position:
    the ``starting_after`` cursor and ``created`` of the last committed page."""

    gte: int | None
    lt: int | None
    after: str | None = None
    last: int | None = None
    done: bool = False
    tail: bool = False


@dataclass
class _Cursor:
    """Where a worker has *fetched* to; ahead of the committed position by the pages
    waiting for the writer."""

    after: str | None
    last: int | None
    fetched: int = 0
    taken: bool = False
    finished: bool = False
    # Customers per second of `created`, inherited by a stolen slice from its victim.
    density: float | None = None


class Plan:
    def __init__(self, slices: list[Slice], *, floor: int, top: int):
        self.slices = slices
        self.floor, self.top = floor, top
        self._cursors = [_Cursor(s.after, s.last, finished=s.done) for s in slices]
        self._lock = threading.Lock()

    @classmethod
    def even(cls, floor: int, newest: int, parts: int) -> Plan:
        """``parts`` equal ranges over [floor, newest], the outer two left open."""
        top = newest + 1
        parts = max(1, min(parts, top - floor))
        edges = [floor + (top - floor) * i // parts for i in range(parts + 1)]
        slices = [Slice(edges[i], edges[i + 1]) for i in range(parts)]
        slices[0].gte = None
        slices[-1].lt = None
        return cls(slices, floor=floor, top=top)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        return cls([Slice(**s) for s in data["slices"]], floor=data["floor"], top=data["top"])

    def to_json(self) -> str:
        """The committed state only: what a resumed run may trust."""
        with self._lock:
            slices = [asdict(s) for s in self.slices]
        return json.dumps({"floor": self.floor, "top": self.top, "slices": slices})

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
            self._cursors.append(_Cursor(None, None))

    def take(self) -> int | None:
        """A slice for an idle worker: an untaken one, else half of the busiest; None
        when nothing is left worth a worker."""
        with self._lock:
            for i, cursor in enumerate(self._cursors):
                if not cursor.taken and not cursor.finished:
                    cursor.taken = True
                    return i
            return self._steal()

    def _steal(self) -> int | None:
        best, best_left = None, 0.0
        for i, cursor in enumerate(self._cursors):
            if cursor.finished:
                continue
            low, high = self._bounds(i, cursor)
            if high - low < 2:
                continue
            left = self._expected_left(i, cursor, low, high)
            if left > best_left:
                best, best_left = i, left
        if best is None or best_left < MIN_STEAL:
            return None
        victim, cursor = self.slices[best], self._cursors[best]
        low, high = self._bounds(best, cursor)
        mid = low + (high - low) // 2
        stolen = Slice(victim.gte, mid, tail=victim.tail)
        victim.gte = mid
        self.slices.append(stolen)
        density = self._density(best, cursor)
        self._cursors.append(_Cursor(None, None, taken=True, density=density))
        return len(self.slices) - 1

    def _bounds(self, i: int, cursor: _Cursor) -> tuple[int, int]:
        """The range still to fetch: from the lower edge up to the last fetched second."""
        s = self.slices[i]
        low = s.gte if s.gte is not None else min(self.floor, cursor.last or self.floor)
        high = cursor.last if cursor.last is not None else (s.lt if s.lt is not None else self.top)
        return low, high

    def _density(self, i: int, cursor: _Cursor) -> float | None:
        """Customers per second seen so far in slice ``i`` (None: nothing known)."""
        s = self.slices[i]
        covered = (s.lt if s.lt is not None else self.top) - (cursor.last or 0)
        if cursor.fetched and cursor.last is not None and covered > 0:
            return cursor.fetched / covered
        return cursor.density

    def _expected_left(self, i: int, cursor: _Cursor, low: int, high: int) -> float:
        """Customers left in the range, from the density seen so far."""
        density = self._density(i, cursor)
        # Unknown density (no page back yet): leave it alone rather than cascade
        # splits of splits before anything is learnt.
        return 0.0 if density is None else density * (high - low)

    def request(self, i: int) -> dict:
        """The list parameters of the next page of slice ``i``."""
        with self._lock:
            s, cursor = self.slices[i], self._cursors[i]
            created = {}
            if s.gte is not None:
                created["gte"] = s.gte
            if s.lt is not None:
                created["lt"] = s.lt
            params: dict = {"limit": 100}
            if created:
                params["created"] = created
            if cursor.after:
                params["starting_after"] = cursor.after
            return params

    def fetched(self, i: int, items: list, has_more: bool) -> tuple[str | None, int | None, bool]:
        """Advance the fetch cursor past a page; returns the position to commit with it."""
        with self._lock:
            cursor = self._cursors[i]
            if items:
                cursor.after, cursor.last = items[-1]["id"], int(items[-1]["created"])
                cursor.fetched += len(items)
            cursor.finished = not has_more
            return cursor.after, cursor.last, cursor.finished

    def restart_at(self, i: int) -> None:
        """The cursor customer vanished (Stripe rejects it): continue from its second,
        without a cursor; re-reading that second is harmless (upserts)."""
        with self._lock:
            s, cursor = self.slices[i], self._cursors[i]
            if cursor.last is not None:
                s.lt = cursor.last + 1
            cursor.after = None

    def committed(self, i: int, after: str | None, last: int | None, done: bool) -> None:
        """Record a page as written (called inside the page's transaction)."""
        with self._lock:
            s = self.slices[i]
            s.after, s.last, s.done = after, last, done

    def progress(self) -> int:
        """Thousandths of the [floor, top) range committed so far (an estimate: Stripe
        gives no total count for a list)."""
        with self._lock:
            span = max(1, self.top - self.floor)
            left = 0
            for s in self.slices:
                if s.done or s.tail:
                    continue
                low = s.gte if s.gte is not None else self.floor
                high = s.last if s.last is not None else (s.lt if s.lt is not None else self.top)
                left += max(0, min(high, self.top) - max(low, self.floor))
            return max(0, min(999, 1000 - left * 1000 // span))


def refine(low: int, high: int, probes: int, has_before) -> tuple[int, int]:
    """Narrow [low, high), known to contain the oldest customer, by asking
    ``has_before(t)`` ("any customer created before t?") at ``probes`` evenly spaced
    points at once; returns the sub-range between the last "no" and the first "yes"."""
    points = [low + (high - low) * k // (probes + 1) for k in range(1, probes + 1)]
    points = sorted({p for p in points if low < p < high})
    answers = has_before(points)
    for point, yes in zip(points, answers, strict=True):
        if yes:
            return low, point
        low = point
    return low, high
