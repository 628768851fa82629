"""The sync health panel's facts and checks: the help page's troubleshooting table
("New Stripe customer not showing", "Stripe disconnected", "Initial import didn't
populate everything") turned into live checks over stored state."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from peewee import DatabaseError

from models import webhook_replays
from models.business import Business
from models.catch_up_state import CatchUpState
from models.stripe_account import StripeAccount
from models.sync_check import RECONCILE, SyncCheck
from models.user import utcnow
from models.webhook_event import FAILED, WebhookEvent

QUIET_AFTER = timedelta(hours=24)
REPAIRS_OVER = timedelta(days=30)  # the health panel sums what checks repaired this long
# No webhook delivery for this long, while catch-up keeps finding changes in Stripe's
# events: our endpoint looks silent (down, or misconfigured).
SILENT_AFTER = timedelta(minutes=5)


def endpoint_silent(last_recovered: int, last_delivered_at: datetime | None, now: datetime):
    """Whether our webhook endpoint looks silent while Stripe has events: the last
    catch-up recovered changes the webhook never brought, and no delivery has arrived
    for ``SILENT_AFTER``. A quiet account (nothing recovered) is never silent."""
    if last_recovered <= 0:
        return False
    return last_delivered_at is None or now - last_delivered_at > SILENT_AFTER


@dataclass(frozen=True)
class Check:
    """One line of the panel: ``level`` is ok, warning or problem; ``action`` names
    what the owner can do about it ("connect", "reconnect", "import")."""

    level: str
    message: str
    action: str | None = None
    # A failed import's automatic retry: shown as a local time, or "now" once due.
    retry_at: datetime | None = None


@dataclass
class Health:
    link: StripeAccount | None
    last_received_at: datetime | None
    counts: dict[tuple[str, str], int]
    recent: list[WebhookEvent]
    import_run: object | None
    checks: list[Check] = field(default_factory=list)
    # Failed events our replays no longer retry: listed with a Replay action.
    not_retried: list[WebhookEvent] = field(default_factory=list)
    # When the list was last confirmed to match Stripe, the catch-up state (its last
    # run and all it recovered), the last reconciliation, and what checks repaired.
    confirmed_at: datetime | None = None
    catch_up: CatchUpState | None = None
    last_reconcile: SyncCheck | None = None
    repaired: dict[str, int] = field(default_factory=dict)

    @property
    def total_24h(self) -> int:
        return sum(self.counts.values())


def _latest_import(business: Business):
    """The latest import run, if the import area is installed: the panel must work
    without it."""
    try:
        module = importlib.import_module("models.import_run")
        return module.ImportRun.latest_for(business)
    except (ImportError, AttributeError, DatabaseError):
        return None


def _import_check(run, stale_after: float) -> Check | None:
    """The same status the import's own panel shows (``shown_status``)."""
    status = run.shown_status(stale_after) if run is not None else None
    if status == "failed":
        error = (run.last_error or "unknown error").rstrip(".")
        return Check("problem", f"Last import failed: {error}.", "import", run.retry_at)
    if status == "interrupted":
        return Check("warning", "The last import was interrupted: use Retry import above.")
    if status in ("queued", "running"):
        return Check("ok", "The import is running; new customers keep arriving meanwhile.")
    return None


def _link_check(link: StripeAccount | None) -> Check | None:
    if link is None:
        return Check("warning", "Stripe is not connected.", "connect")
    if link.owner_disconnected:
        return Check("info", "You disconnected Stripe.", "reconnect")
    if not link.is_connected:
        reason = link.disconnect_reason or "access was revoked"
        return Check("problem", f"Stripe disconnected: {reason}.", "reconnect")
    return None


def _delivery_checks(health: Health, now: datetime) -> list[Check]:
    """Only what the owner can act on, or should tell support about: the webhook
    endpoint itself is ShingleAI's to set up (the support console shows it)."""
    checks = []
    last = health.last_received_at
    if last is not None and now - last > QUIET_AFTER:
        checks.append(
            Check(
                "warning",
                "No change has arrived from Stripe for 24 h. If your customers changed in "
                "Stripe meanwhile, contact support.",
            )
        )
    failed = sum(n for (_, outcome), n in health.counts.items() if outcome == FAILED)
    if failed:
        checks.append(
            Check(
                "warning",
                f"{failed} change{'s' if failed != 1 else ''} from Stripe could not be applied "
                "in the last 24 h; they are retried automatically for three days. If this "
                "persists, contact support.",
            )
        )
    return checks


def _not_retried_check(events: list[WebhookEvent]) -> Check | None:
    """Never a silent loss: events whose automatic replays ended are the owner's to
    replay (listed below the checks)."""
    if not events:
        return None
    many = len(events) != 1
    return Check(
        "problem",
        f"{len(events)} change{'s' if many else ''} from Stripe could not be applied and "
        f"{'are' if many else 'is'} no longer retried automatically: replay "
        f"{'them' if many else 'it'} below, or contact support.",
    )


def _add_sync_checks(health: Health, business: Business, now: datetime) -> None:
    """When the list was last confirmed to match Stripe: the end of the last catch-up
    that ran without error and left no gap (every change Stripe recorded is applied;
    sync/catch_up.py), or of the last reconciliation (every customer compared),
    whichever is later; and what each repaired."""
    state = CatchUpState.for_business(business)
    caught_up = (
        state.last_run_at if state.last_error is None and not state.needs_reconcile else None
    )
    health.catch_up = state
    health.last_reconcile = SyncCheck.last_succeeded(business, RECONCILE)
    reconciled = health.last_reconcile.finished_at if health.last_reconcile else None
    health.confirmed_at = max((t for t in (caught_up, reconciled) if t is not None), default=None)
    health.repaired = SyncCheck.totals_since(business, now - REPAIRS_OVER)


def _held_check(link: StripeAccount | None, business: Business) -> Check | None:
    """Events that arrived while Stripe was disconnected: kept for the business, and
    applied by the catch-up that follows a reconnect with the same account."""
    if link is None:
        return None
    held = WebhookEvent.held_for(business, link.account_id).count()
    if not held:
        return None
    many = held != 1
    noun = f"{held} event{'s' if many else ''}"
    if link.is_connected:
        verb = "are" if many else "is"
        return Check(
            "info", f"{noun} that arrived while Stripe was disconnected {verb} being applied."
        )
    return Check(
        "warning",
        f"{noun} arrived while Stripe was disconnected; {'they' if many else 'it'} will be "
        "applied when you reconnect.",
        "reconnect",
    )


def _silence_check(business: Business, now: datetime) -> Check | None:
    """The webhook seems to have stopped while Stripe has changes (catch-up keeps
    finding them): say that catch-up covers it, and who can fix the endpoint."""
    state = CatchUpState.for_business(business)
    if not endpoint_silent(state.last_recovered, WebhookEvent.last_delivered_at(business), now):
        return None
    return Check(
        "warning",
        "Changes from Stripe are not arriving by webhook; ShingleAI reads them from Stripe "
        "every minute meanwhile. If this persists, contact support.",
    )


def health_for(business: Business, *, stale_after: float, recent: int = 20) -> Health:
    """Everything the panel shows for ``business``; each query walks an index."""
    now = utcnow()
    link = StripeAccount.for_business(business)
    health = Health(
        link=link,
        last_received_at=WebhookEvent.last_received_at(business),
        counts=WebhookEvent.counts_since(business),
        recent=list(WebhookEvent.recent(business, recent)),
        import_run=_latest_import(business),
    )
    _add_sync_checks(health, business, now)
    checks = [
        _link_check(link),
        _held_check(link, business),
        _import_check(health.import_run, stale_after),
    ]
    if link is not None and link.is_connected:
        checks.extend(_delivery_checks(health, now))
        checks.append(_silence_check(business, now))
    health.not_retried = webhook_replays.no_longer_retried(
        business.id, StripeAccount.accounts_ever(business)
    )
    checks.append(_not_retried_check(health.not_retried))
    health.checks = [c for c in checks if c is not None]
    if not any(c.level in ("warning", "problem") for c in health.checks) and (
        link is not None and link.is_connected
    ):
        health.checks.insert(0, Check("ok", "Sync is healthy."))
    return health
