"""The one rule that decides whether incoming Stripe data is newer than a stored row.

Stripe gives customers no version number, and events arrive in any order with
whole-second ``created`` stamps. So every piece of Stripe data we apply is stamped
with a ``Version``: the Stripe-clock second at which it was known to be true, and
where it came from:

- ``SNAPSHOT``: a page of ``customers.list`` (the import). Stamped one second *before*
  Stripe's ``Date`` header on the response, so it never claims to be newer than an
  event from the second in which it was read.
- ``EVENT``: a webhook event's ``data.object``, stamped with ``event.created``.
- ``FETCH``: a ``customers.retrieve`` made to break a tie, stamped with the response's
  ``Date`` second, and made only once that second is later than the tied one.

The rule, enforced by ``decide`` and used by both the import and the webhooks:

1. Deletion in Stripe is final: a deleted row takes no more updates (a ``customer.deleted``
   is always applied, whatever its stamp).
2. A later second wins; an earlier one is skipped.
3. Within one second: a snapshot only replaces another snapshot; an event replaces a
   snapshot; two events (or an event and a fetch) are a tie that only Stripe can settle,
   so the caller re-fetches the customer, outside any database transaction; a fetch,
   being made after the tied second ended, replaces anything from that second.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Source(enum.IntEnum):
    SNAPSHOT = 0
    EVENT = 1
    FETCH = 2


class Decision(enum.Enum):
    APPLY = "apply"
    SKIP = "skip"
    TIE = "tie"


@dataclass(frozen=True)
class Version:
    at: int
    source: Source


def decide(incoming: Version, stored: Version | None, *, stored_deleted: bool = False) -> Decision:
    """Whether data stamped ``incoming`` may replace a row stamped ``stored``.

    ``stored`` is None for a row that never held Stripe data (or does not exist).
    Deletions are handled by the caller (rule 1): this decides field updates only.
    """
    if stored_deleted:
        return Decision.SKIP
    if stored is None or incoming.at > stored.at:
        return Decision.APPLY
    if incoming.at < stored.at:
        return Decision.SKIP
    if incoming.source is Source.FETCH:
        return Decision.APPLY
    if incoming.source is Source.SNAPSHOT:
        return Decision.APPLY if stored.source is Source.SNAPSHOT else Decision.SKIP
    return Decision.APPLY if stored.source is Source.SNAPSHOT else Decision.TIE
