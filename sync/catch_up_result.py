"""What a catch-up reports: its result (with one line for the owner) and the progress
it gives a caller that shows it live. Re-exported by ``sync.catch_up``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CatchUpResult:
    listed: int = 0  # events Stripe returned
    recovered: int = 0  # events this run applied that changed the list (or the link)
    already_recorded: int = 0  # had a final outcome already: not applied again
    requests: int = 0  # list requests sent to Stripe (retries included)
    gap: bool = False  # catch-up could not cover the time since the mark
    mark: int | None = None  # the high-water mark after the run (a Stripe second)
    unchanged: int = 0  # recorded now, but older than the stored data (or ignored)
    failed: int = 0  # could not be applied now: replayed from the queue, listed again
    invalid: int = 0  # failed the checks every webhook passes: not stored
    waiting_for_import: bool = False  # nothing to start from until the import ends
    oldest_failed: int | None = None  # `created` of the oldest event that failed

    @property
    def summary(self) -> str:
        """One line for the owner, e.g. "Up to date: 2 changes recovered from Stripe"."""
        if self.waiting_for_import:
            return "The import is still running; catch-up starts when it has finished."
        changes = f"{self.recovered} change{'s' if self.recovered != 1 else ''}"
        line = (
            f"Up to date: {changes} recovered from Stripe"
            if self.recovered
            else "Up to date: nothing was missing"
        )
        if self.failed:
            line += f"; {self.failed} could not be applied yet and will be retried"
        if self.gap:
            line += (
                ". Stripe keeps only 30 days of changes, so every customer will be "
                "checked against Stripe"
            )
        return line + "."


@dataclass(frozen=True)
class CatchUpProgress:
    phase: str  # "listing", then "applying"
    listed: int
    applied: int  # events handled so far in the applying phase
    requests: int
