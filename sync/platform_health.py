"""The platform-wide webhook status for the support console: what only ShingleAI's
operators can act on (the endpoint in Stripe, its signing secret, the public URL),
moved out of the owner's panel, which keeps what the owner can act on.

Never carries a secret: only whether each setting is present, and how many signing
secrets there are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from peewee import fn

from models.stripe_account import CONNECTED, StripeAccount
from models.user import utcnow
from models.webhook_event import FAILED, WebhookEvent
from sync.webhook_health import QUIET_AFTER, Check
from sync.webhook_input import CUSTOMER_EVENTS, DEAUTHORIZED, secrets_from

EVENT_TYPES = (*CUSTOMER_EVENTS, DEAUTHORIZED)


@dataclass
class PlatformHealth:
    mode: str  # "sandbox", "test" or "live"
    webhook_url: str
    public_url_set: bool
    signing_secrets: int
    client_id_set: bool
    links: dict[str, int]
    last_received_at: datetime | None
    counts: dict[str, int]
    checks: list[Check] = field(default_factory=list)

    @property
    def total_24h(self) -> int:
        return sum(self.counts.values())


def _mode(config: Mapping) -> str:
    if config.get("STRIPE_SANDBOX"):
        return "sandbox"
    return "live" if config["STRIPE_SECRET_KEY"].startswith(("sk_live_", "rk_live_")) else "test"


def _checks(health: PlatformHealth, now: datetime) -> list[Check]:
    checks = []
    if health.mode != "sandbox" and not health.public_url_set:
        checks.append(
            Check(
                "warning",
                "PUBLIC_URL is not set: the webhook URL below is this request's address; "
                "set PUBLIC_URL to the address Stripe reaches.",
            )
        )
    connected = health.links.get(CONNECTED, 0)
    if connected and health.last_received_at is None:
        checks.append(
            Check("warning", "No webhook received yet: add the endpoint below in Stripe.")
        )
    elif connected and now - health.last_received_at > QUIET_AFTER:
        checks.append(
            Check(
                "warning",
                "No webhook received for 24 h from any account: check the endpoint and "
                "Stripe's event log.",
            )
        )
    failed = health.counts.get(FAILED, 0)
    if failed:
        checks.append(
            Check(
                "warning",
                f"{failed} event{'s' if failed != 1 else ''} failed in the last 24 h; Stripe "
                "retries them, and each business's page can replay them.",
            )
        )
    if not checks:
        checks.append(Check("ok", "Webhooks are configured and arriving."))
    return checks


def platform_health(config: Mapping, webhook_url: str) -> PlatformHealth:
    """Configuration presence, link counts and the last 24 h of events, platform-wide."""
    links = StripeAccount.select(StripeAccount.status, fn.COUNT(StripeAccount.id)).group_by(
        StripeAccount.status
    )
    health = PlatformHealth(
        mode=_mode(config),
        webhook_url=webhook_url,
        public_url_set=bool(config.get("PUBLIC_URL")),
        signing_secrets=len(secrets_from(config)),
        client_id_set=bool(config.get("STRIPE_CLIENT_ID")),
        links=dict(links.tuples()),
        last_received_at=WebhookEvent.platform_last_received_at(),
        counts=WebhookEvent.platform_counts_since(),
    )
    health.checks = _checks(health, utcnow())
    return health
