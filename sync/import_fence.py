"""Which link an import run is for, and what happens to a run whose link was
replaced: it ends as superseded (never resumed under the new link, whose customers
its plan does not cover) and the current link gets a run of its own."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from models.import_run import FAILED, ImportRun
from models.stripe_account import LinkFence, StripeAccount

log = logging.getLogger(__name__)

SUPERSEDED = "Replaced by a newer import."


def fence_of(run: ImportRun, link: StripeAccount) -> LinkFence:
    """The link the run is for. A run queued before runs recorded theirs (migration
    0013 assigns those it can) is claimed for the current link, once."""
    if run.fence is not None:
        return run.fence
    ImportRun.update(account_id=link.account_id, generation=link.generation).where(
        (ImportRun.id == run.id) & ImportRun.account_id.is_null()
    ).execute()
    run = run.refresh()
    return run.fence


def link_changed(fence: LinkFence) -> bool:
    """The business is linked by another attach than the one ``fence`` names."""
    link = StripeAccount.for_business(fence.business_id)
    return link is not None and link.fence != fence


def superseded(run: ImportRun, config: Mapping) -> ImportRun:
    """End a run whose link was replaced (switched, reconnected) as superseded, not as
    an error the owner must act on, and make sure the current link has its own run.
    Nothing of the old run is resumed under the new link: its plan covers another
    account's customers."""
    log.info("import run %s ended: its Stripe link was replaced", run.id)
    run.finish(FAILED, error=SUPERSEDED)
    if StripeAccount.fence_for(run.business_id) is not None:
        from sync import import_jobs  # imported on use: import_jobs imports this module

        import_jobs.start_import(run.business_id, config=config, reason="connect")
    return run
