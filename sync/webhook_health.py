"""The sync health panel's facts and checks: the help page's troubleshooting table
("New Stripe customer not showing", "Stripe disconnected", "Initial import didn't
populate everything") turned into live checks over stored state."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from peewee import DatabaseError

from models.business import Business
from models.stripe_account import StripeAccount
from models.user import utcnow
from models.webhook_event import FAILED, WebhookEvent

QUIET_AFTER = timedelta(hours=24)


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
                "in the last 24 h; Stripe sends them again automatically. If this persists, "
                "contact support.",
            )
        )
    return checks


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
    checks = [_link_check(link), _import_check(health.import_run, stale_after)]
    if link is not None and link.is_connected:
        checks.extend(_delivery_checks(health, now))
    health.checks = [c for c in checks if c is not None]
    if not any(c.level in ("warning", "problem") for c in health.checks) and (
        link is not None and link.is_connected
    ):
        health.checks.insert(0, Check("ok", "Sync is healthy."))
    return health
