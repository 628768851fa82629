"""The one rule that decides whether incoming Stripe data is newer than a stored row.

Stripe gives customers no version number, and events arrive in any order with
whole-second ``created`` stamps. So every piece of Stripe data we apply is stamped
with a ``Version``: a Stripe-clock second, and where the data came from. A read of
Stripe (a list page or a retrieve) is dated by ``sync.stripe_client.read_second``: it
happened at or after the start of second R = ⌊Date - elapsed⌋, where ``Date`` is the
answer's whole-second header and ``elapsed`` the measured time of the request (a slow
answer may have been read seconds before its ``Date``).

- ``SNAPSHOT``: a page of ``customers.list`` (the import), stamped R
  (``snapshot_version``). It reflects every change made before second R; an event of
  second R may have come after the read, so it wins.
- ``EVENT``: a webhook event's ``data.object``, stamped with ``event.created``: the
  change was made within that second.
- ``FETCH``: a ``customers.retrieve`` (to settle a tie, or by the import's sweep),
  stamped R - 1 (``fetch_version``). Every change of that second was made before the
  read, so the fetch reflects it: a fetch replaces anything from its own second, and
  an event from its second is older than it. A tie of second c is settled only by a
  fetch whose stamp has reached c (``settles``).

The rule, used by both the import and the webhooks, is written here twice over, and
only here: ``newer_condition`` is the SQL the writer's conditional upsert applies (so
concurrent writers in several processes decide against the committed row, under its
row lock), and ``decide`` is the same rule in Python, which says why a change did not
land (skipped or tied). Property tests hold the two to the same answers.

1. Deletion in Stripe is final: a deleted row takes no more updates (a ``customer.deleted``
   is always applied, whatever its stamp, and the row keeps its first deletion time).
2. A later second wins; an earlier one is skipped.
3. Within one second: a snapshot only replaces another snapshot; an event replaces a
   snapshot; two events are a tie that only Stripe can settle, so the caller re-fetches
   the customer, outside any database transaction; a fetch replaces anything from its
   second, and an event over a fetch of its second is skipped (the fetch read after it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from peewee import EXCLUDED, fn

from models.customer import Customer


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


def snapshot_version(read_second: int) -> Version:
    """The stamp of a list page read in (or after) ``read_second``."""
    return Version(read_second, Source.SNAPSHOT)


def fetch_version(read_second: int) -> Version:
    """The stamp of a retrieve read in (or after) ``read_second``: the second before,
    whose every change the read reflects."""
    return Version(read_second - 1, Source.FETCH)


def settles(read_second: int, tied: int) -> bool:
    """Whether a retrieve read in (or after) ``read_second`` reflects every change of
    second ``tied``, and so may settle a tie of that second."""
    return fetch_version(read_second).at >= tied


def decide(
    incoming: Version,
    stored: Version | None,
    *,
    stored_deleted: bool = False,
    incoming_deleted: bool = False,
) -> Decision:
    """Whether data stamped ``incoming`` may replace a row stamped ``stored``.

    ``stored`` is None for a row that never held Stripe data (or does not exist).
    ``incoming_deleted``: the data is a ``customer.deleted`` object (rule 1).
    """
    if incoming_deleted:
        return Decision.APPLY
    if stored_deleted:
        return Decision.SKIP
    if stored is None or incoming.at > stored.at:
        return Decision.APPLY
    if incoming.at < stored.at:
        return Decision.SKIP
    if incoming.source is Source.FETCH:
        return Decision.APPLY
    if stored.source is Source.SNAPSHOT:
        return Decision.APPLY
    if incoming.source is Source.SNAPSHOT or stored.source is Source.FETCH:
        return Decision.SKIP
    return Decision.TIE


def newer_condition():
    """The rule as the WHERE of ``INSERT … ON CONFLICT DO UPDATE``: true when the
    incoming row (``EXCLUDED``) may replace the stored one. Equal to ``decide`` returning
    APPLY, where a deleted incoming row has ``deleted_in_stripe_at`` set."""
    stored_at, stored_source = Customer.stripe_version_at, Customer.stripe_version_source
    at, source = EXCLUDED.stripe_version_at, EXCLUDED.stripe_version_source
    # Rule 3: within one second, a fetch replaces anything and anything replaces a
    # snapshot; the remaining cases are a snapshot over an event or fetch and an event
    # over a fetch (skip), and an event over an event (a tie, which only Stripe can
    # settle): none of them writes.
    same_second = (source == int(Source.FETCH)) | (stored_source == int(Source.SNAPSHOT))
    newer = stored_at.is_null() | (at > stored_at) | ((at == stored_at) & same_second)
    return EXCLUDED.deleted_in_stripe_at.is_null(False) | (
        Customer.deleted_in_stripe_at.is_null() & newer
    )


def deletion_kept():
    """Rule 1 for the stored deletion time: the first deletion stays."""
    return fn.COALESCE(Customer.deleted_in_stripe_at, EXCLUDED.deleted_in_stripe_at)
