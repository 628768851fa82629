"""Created-desc pagination over a sorted key list, as Stripe's list endpoints page.

Keys are `(created, seq, id)` tuples kept ascending, so a cursor is found with bisect in
O(log n) and a page is a slice read backwards (newest first). `seq` breaks ties between
objects created in the same second, in creation order.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Sequence
from typing import Any

Key = tuple[int, int, str]


class SortedKeys:
    """Ascending `(created, seq, id)` keys of one account's objects of one kind."""

    def __init__(self) -> None:
        self.keys: list[Key] = []

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, key: Key) -> None:
        if not self.keys or key > self.keys[-1]:
            self.keys.append(key)
        else:
            insort(self.keys, key)

    def add_many(self, keys: list[Key]) -> None:
        """Merge a batch; timsort merges two sorted runs in linear time."""
        self.keys.extend(keys)
        self.keys.sort()

    def remove(self, key: Key) -> None:
        i = bisect_left(self.keys, key)
        if i < len(self.keys) and self.keys[i] == key:
            del self.keys[i]


def created_bounds(created: Any) -> tuple[int | None, int | None]:
    """`created` (int or {gt,gte,lt,lte}) as a half-open [low, high) range of seconds."""
    if created is None:
        return None, None
    if not isinstance(created, dict):
        return int(created), int(created) + 1
    low = high = None
    if "gt" in created:
        low = int(created["gt"]) + 1
    if "gte" in created:
        low = max(low or -(2**62), int(created["gte"]))
    if "lt" in created:
        high = int(created["lt"])
    if "lte" in created:
        high = min(high if high is not None else 2**62, int(created["lte"]) + 1)
    return low, high


def page(
    keys: Sequence[Key],
    *,
    limit: int,
    created: tuple[int | None, int | None] = (None, None),
    starting_after: Key | None = None,
    ending_before: Key | None = None,
) -> tuple[list[Key], bool]:
    """One page newest first and `has_more`, with Stripe's cursor semantics.

    `starting_after` walks towards older objects; `ending_before` returns the `limit`
    objects just newer than the cursor (still newest first), `has_more` meaning there
    are even newer ones.
    """
    lo, hi = 0, len(keys)
    if created[0] is not None:
        lo = bisect_left(keys, (created[0],))
    if created[1] is not None:
        hi = bisect_left(keys, (created[1],))
    if starting_after is not None:
        hi = min(hi, bisect_left(keys, starting_after))
    if ending_before is not None:
        lo = max(lo, bisect_right(keys, ending_before))
    if hi <= lo:
        return [], False
    if ending_before is not None:
        chunk = keys[lo : lo + limit]
        return chunk[::-1], lo + limit < hi
    start = max(lo, hi - limit)
    return keys[start:hi][::-1], start > lo
