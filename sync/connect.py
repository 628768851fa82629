"""Stripe Connect: finishing a link, switching accounts, disconnecting, and turning
Stripe's refusals into a Disconnected link the owner can see and repair.

Plain functions over explicit inputs (a business, the Authlib client, the config), so
the view stays thin and the importer can record a revoked account the same way.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping

import requests
import stripe
from authlib.integrations.base_client import OAuthError

from models import link_history
from models.customer import Customer
from models.db import write_transaction
from models.stripe_account import (
    NO_LINK,
    ConnectAttempt,
    ConnectRefused,
    StaleLink,
    StripeAccount,
)
from models.user import utcnow
from sync.stripe_client import make_client

log = logging.getLogger(__name__)

YOU_DISCONNECTED = "You disconnected Stripe."
_REJECTION_REASONS = {
    stripe.AuthenticationError: "Stripe no longer accepts ShingleAI's access to this account.",
    stripe.PermissionError: "Stripe refused ShingleAI access to this account "
    "(access was removed in Stripe, or the account was closed).",
}

__all__ = ["ConnectRefused", "Outcome", "complete", "disconnect", "record_rejection"]


class Outcome(enum.Enum):
    CONNECTED = "connected"
    RECONNECTED = "reconnected"
    SWITCH_NEEDED = "switch_needed"


def authorize_url(oauth_app, business, redirect_uri: str) -> str:
    """Stripe's consent page for a new attempt; its state is recorded server-side."""
    state = ConnectAttempt.start(business)
    # Stripe's default scope is read_only, which only Extensions may use.
    return oauth_app.create_authorization_url(redirect_uri, state=state, scope="read_write")["url"]


def _exchange(oauth_app, code: str) -> tuple[str, bool]:
    """Trade the code for the account id, exactly once: no retry, because Stripe
    revokes the connection when a code is used twice. The access token is dropped."""
    try:
        token = oauth_app.fetch_access_token(code=code, grant_type="authorization_code")
    except OAuthError as error:
        log.info("Stripe refused an authorization code: %s", error.error)
        if error.error == "invalid_grant":
            raise ConnectRefused(
                "Stripe did not accept this connection: its code expired (codes last five "
                "minutes) or was already used. Connect Stripe again."
            ) from None
        raise ConnectRefused(
            f"Stripe refused the connection ({error.error}). Connect Stripe again; if it "
            "keeps failing, check ShingleAI's Stripe settings."
        ) from None
    except requests.RequestException as error:
        log.warning("Could not reach Stripe to exchange a code: %s", type(error).__name__)
        raise ConnectRefused(
            "ShingleAI could not reach Stripe to finish connecting. Connect Stripe again."
        ) from None
    return token["stripe_user_id"], bool(token.get("livemode"))


def account_name(config: Mapping, account_id: str) -> str | None:
    """The connected account's business name as its owner knows it (the Dashboard's
    display name, else the public business name), or None when Stripe does not say.
    Only a label: a failure here must never stop the connection."""
    try:
        account = make_client(config).v1.accounts.retrieve(account_id).to_dict()
    except stripe.StripeError as error:
        log.info("Could not read the name of %s: %s", account_id, type(error).__name__)
        return None
    settings = account.get("settings") or {}
    dashboard = settings.get("dashboard") or {}
    profile = account.get("business_profile") or {}
    name = str(dashboard.get("display_name") or profile.get("name") or "").strip()
    return name[:200] or None


def complete(business, attempt: ConnectAttempt, oauth_app, code: str, config: Mapping) -> Outcome:
    """Finish a Connect attempt whose state was just claimed: exchange the code, then
    link (or relink) the account and start its import, or hold a different account
    for the owner's confirmation. The link is attached only if it is still the one
    read here (its generation): of two callbacks in flight at once, the second to
    finish finds the link changed and asks for the switch confirmation instead."""
    if not business.is_primary:
        raise ConnectRefused("Only your primary business can be linked to Stripe.")
    link = StripeAccount.for_business(business)
    seen = link.generation if link is not None else NO_LINK
    if link is not None and link.is_connected:
        raise ConnectRefused(
            f"Stripe is already connected ({link.account_id}). Disconnect it first to link "
            "another account."
        )
    account_id, livemode = _exchange(oauth_app, code)
    other = StripeAccount.connected_to(account_id)
    if other is not None and other.business_id != business.id:
        # Never deauthorize here: that would cut the other business's link too.
        raise ConnectRefused(
            f"The Stripe account {account_id} is already linked to another ShingleAI "
            "business. Disconnect it there first, or connect a different account."
        )
    name = account_name(config, account_id)
    if link is not None and link.account_id != account_id:
        attempt.hold_switch(account_id, livemode, name, seen)
        return Outcome.SWITCH_NEEDED
    try:
        StripeAccount.attach(business, account_id, livemode, name, seen_generation=seen)
    except StaleLink:
        return _lost_race(business, attempt, account_id, livemode, name)
    reason = "connect" if link is None else "reconnect"
    log.info("Business %s linked Stripe account %s (%s)", business.id, account_id, reason)
    _start_import(business.id, config, reason)
    return Outcome.CONNECTED if link is None else Outcome.RECONNECTED


def _lost_race(business, attempt, account_id: str, livemode: bool, name: str | None) -> Outcome:
    """Another callback changed the link between our read and our attach (two tabs
    finishing Connect at once). The same account is simply connected already; a
    different one needs the owner's confirmation, like any switch."""
    link = StripeAccount.for_business(business)
    log.info("Business %s: a concurrent Connect changed the link first", business.id)
    if link.account_id == account_id and not link.is_connected:
        raise ConnectRefused(
            "Your Stripe link changed while connecting (in another tab or window), so "
            "nothing was linked. Connect Stripe again."
        )
    if link.account_id == account_id:
        raise ConnectRefused(
            f"Stripe was connected to {link.label} from another tab or window at the "
            "same moment; nothing more was needed."
        )
    attempt.hold_switch(account_id, livemode, name, link.generation)
    return Outcome.SWITCH_NEEDED


def _start_import(business_id: int, config: Mapping, reason: str) -> None:
    # Imported on use: the importer itself imports this module (record_rejection).
    from sync import import_jobs

    import_jobs.start_import(business_id, config=config, reason=reason)


def switch_account(business, attempt: ConnectAttempt, config: Mapping) -> int:
    """Replace the linked account by the one held in ``attempt``. The old account's
    customers stay, as ShingleAI-only rows (no Stripe id), because nothing keeps them
    current any more; returns how many were converted. Refused, with nothing
    converted, when the link changed since the owner was asked (reconnected in
    another tab, say): the held account's access is then given back."""
    if not attempt.resolve():
        raise ConnectRefused("This switch was already answered.")
    before = StripeAccount.for_business(business)
    seen = attempt.link_generation
    if seen is None:  # held before migration 0013: only a still disconnected link is safe
        seen = before.generation if before is not None and not before.is_connected else -1
    try:
        with write_transaction():
            # The link row first: it waits for fenced writes of the old link in flight.
            StripeAccount.attach(
                business,
                attempt.account_id,
                attempt.livemode,
                attempt.account_name,
                seen_generation=seen,
            )
            converted = (
                Customer.update(
                    stripe_customer_id=None, stripe_version_at=None, stripe_version_source=None
                )
                .where((Customer.business == business) & Customer.stripe_customer_id.is_null(False))
                .execute()
            )
    except StaleLink:
        _release(config, attempt.account_id)
        raise ConnectRefused(
            "Your Stripe link changed after you were asked about this switch (it was "
            "connected again, perhaps in another tab), so nothing was switched and your "
            f"customers are unchanged. To use {attempt.label}, Connect Stripe again."
        ) from None
    log.info("Business %s switched to Stripe account %s", business.id, attempt.account_id)
    if before is not None and before.is_connected and before.account_id != attempt.account_id:
        _release(config, before.account_id)  # replaced while connected: give its access back
    _start_import(business.id, config, "connect")
    return converted


def decline_switch(business, attempt: ConnectAttempt, config: Mapping) -> None:
    """Keep the old link; give back the access just granted for the other account,
    unless another business uses that account."""
    if not attempt.resolve():
        raise ConnectRefused("This switch was already answered.")
    _release(config, attempt.account_id)


def _release(config: Mapping, account_id: str) -> None:
    """Give back our access to an account no business of ours is connected to."""
    if StripeAccount.connected_to(account_id) is not None:
        return
    try:
        _deauthorize(config, account_id)
    except stripe.StripeError as error:
        # Best effort: the owner keeps an unused grant they can remove in Stripe.
        log.warning("Releasing %s failed: %s", account_id, type(error).__name__)


def _deauthorize(config: Mapping, account_id: str) -> None:
    """Revoke our access in Stripe. An account Stripe says is not connected any more
    counts as done."""
    try:
        make_client(config).oauth.deauthorize(
            {"client_id": config["STRIPE_CLIENT_ID"], "stripe_user_id": account_id}
        )
    except stripe.oauth_error.InvalidClientError as error:
        if "not connected" not in (error.user_message or ""):
            raise
        log.info("Stripe account %s was already deauthorized", account_id)


def disconnect(link: StripeAccount, config: Mapping) -> None:
    """The owner's Disconnect: revoke in Stripe, then mark the link; customers stay.
    Stripe's deauthorized webhook for our own revocation may land first: it is still
    recorded as the owner's choice, not as access lost."""
    # Stripe's event time has whole seconds: its echo may carry the second we began in.
    started = utcnow().replace(microsecond=0)
    try:
        _deauthorize(config, link.account_id)
    except stripe.StripeError as error:
        log.warning("Deauthorizing %s failed: %s", link.account_id, type(error).__name__)
        raise ConnectRefused(
            "ShingleAI could not reach Stripe to disconnect, so nothing changed. Try again."
        ) from None
    link.mark_disconnected(
        YOU_DISCONNECTED, kind=link_history.DISCONNECTED, overriding_since=started
    )


def rejection_reason(error: Exception) -> str | None:
    """The owner-facing reason for a Stripe error that means our access is gone, or
    None for any other error."""
    for kind, reason in _REJECTION_REASONS.items():
        if isinstance(error, kind):
            return reason
    return None


def record_rejection(link: StripeAccount, error: Exception) -> bool:
    """Mark the link Disconnected when ``error`` (from a call made for its account)
    says Stripe no longer lets us in. Returns True when this call changed the link;
    other errors are left to the caller. Only the link as the caller read it (its
    account and generation) is ended: a refusal met by stale work (an import of the
    account before a switch) leaves whatever the business is linked to now alone."""
    reason = rejection_reason(error)
    if reason is None:
        return False
    log.warning("Stripe rejected calls for account %s: %s", link.account_id, type(error).__name__)
    return link.mark_disconnected(reason, kind=link_history.REFUSED)
