"""The Stripe page: connect the primary business's Stripe account through Connect
OAuth, see the link's state, disconnect, and repair a link Stripe broke."""

from __future__ import annotations

import re

from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from models.stripe_account import ConnectAttempt, ConnectRefused, StripeAccount
from sync import connect
from views.auth import login_required
from views.public_url import public_url

bp = Blueprint("stripe_connect", __name__, cli_group=None)

_OAUTH_NAME = "stripe_connect"


def init_app(app: Flask) -> None:
    """One Authlib client per app, so the authorize and token URLs follow its config
    (real Stripe or the sandbox). Stripe authenticates the token call with the
    platform secret key, sent as ``client_secret``."""
    oauth = OAuth(app)
    base = app.config["STRIPE_CONNECT_BASE"] or "https://connect.stripe.com"
    oauth.register(
        _OAUTH_NAME,
        client_id=app.config["STRIPE_CLIENT_ID"],
        client_secret=app.config["STRIPE_SECRET_KEY"],
        authorize_url=f"{base}/oauth/authorize",
        access_token_url=f"{base}/oauth/token",
        client_kwargs={"token_endpoint_auth_method": "client_secret_post", "default_timeout": 30},
    )


@bp.app_context_processor
def _stripe_link() -> dict:
    """The owner's link for every page (the Customers list shows its banner)."""
    business = g.get("business")
    return {"stripe_link": StripeAccount.for_business(business) if business else None}


def _oauth_app():
    return current_app.extensions["authlib.integrations.flask_client"].create_client(_OAUTH_NAME)


def _redirect_uri() -> str:
    return public_url(url_for("stripe_connect.callback"))


def _back(message: str):
    flash(message)
    return redirect(url_for("stripe_connect.index"))


@bp.get("/stripe")
@login_required
def index():
    """Not connected, Connected or Disconnected, with what the owner can do next."""
    return render_template("stripe_connect/index.html")


@bp.get("/stripe/banner")
@login_required
def banner():
    """The link's banner alone, for the Customers list's live slot."""
    response = current_app.make_response(render_template("stripe_connect/_banner.html"))
    response.vary.add("HX-Request")
    return response


@bp.post("/stripe/connect")
@login_required
def start():
    """Send the owner to Stripe's consent page."""
    link = StripeAccount.for_business(g.business)
    if link is not None and link.is_connected:
        return _back("Stripe is already connected.")
    url = connect.authorize_url(_oauth_app(), g.business, _redirect_uri())
    return redirect(url, code=303)


@bp.get("/stripe/callback")
@login_required
def callback():
    """Stripe sends the owner back here. The state is claimed before anything else,
    so a refresh or a forged answer never reaches Stripe's token endpoint."""
    error = request.args.get("error")
    try:
        attempt = ConnectAttempt.consume(g.business, request.args.get("state"))
    except ConnectRefused as refused:
        if error == "access_denied":
            return _back("Connecting Stripe was cancelled.")
        return render_template("stripe_connect/index.html", error=str(refused)), 400
    if error == "access_denied":
        return _back("Connecting Stripe was cancelled.")
    if error or not request.args.get("code"):
        # Name Stripe's error code, never echo its free text onto our page.
        name = error if re.fullmatch(r"[a-z_]{1,40}", error or "") else "no code"
        return _back(f"Stripe did not connect ({name}). Connect Stripe again.")
    try:
        outcome = connect.complete(
            g.business, attempt, _oauth_app(), request.args["code"], current_app.config
        )
    except ConnectRefused as refused:
        return _back(str(refused))
    if outcome is connect.Outcome.SWITCH_NEEDED:
        return redirect(url_for("stripe_connect.switch", attempt_id=attempt.id))
    # The import's own live status says how it is going; a flash must not outlive it.
    link = StripeAccount.for_business(g.business)
    if outcome is connect.Outcome.RECONNECTED:
        return _back(f"Stripe is connected again to {link.label}.")
    return _back(f"Stripe is connected to {link.label}.")


def _pending_switch(attempt_id: int):
    attempt = ConnectAttempt.pending_switch(g.business, attempt_id)
    link = StripeAccount.for_business(g.business)
    if attempt is None or link is None:
        abort(404)
    return attempt, link


@bp.get("/stripe/switch/<int:attempt_id>")
@login_required
def switch(attempt_id: int):
    """Ask whether to replace the linked account by a different one (after a
    disconnect, or when another tab connected one at the same moment). Only a page:
    GET and HEAD never decide anything."""
    attempt, link = _pending_switch(attempt_id)
    return render_template("stripe_connect/switch.html", attempt=attempt, link=link)


@bp.post("/stripe/switch/<int:attempt_id>")
@login_required
def decide_switch(attempt_id: int):
    """The owner's answer: switch, or keep (which gives back the new account's access)."""
    attempt, link = _pending_switch(attempt_id)
    decision = request.form.get("decision")
    if decision not in ("switch", "keep"):
        abort(400, "Choose whether to switch accounts or keep the current one.")
    try:
        if decision == "switch":
            old = link.label
            kept = connect.switch_account(g.business, attempt, current_app.config)
            return _back(
                f"Stripe is connected to {attempt.label}. {kept:,} customers from "
                f"{old} are kept as not synced."
            )
        connect.decline_switch(g.business, attempt, current_app.config)
    except ConnectRefused as refused:
        return _back(str(refused))
    state = "connected" if link.is_connected else "disconnected"
    return _back(f"Nothing changed: {link.label} stays {state}.")


@bp.get("/stripe/disconnect")
@login_required
def disconnect():
    """Ask first: a page only (GET and HEAD never act)."""
    link = StripeAccount.for_business(g.business)
    if link is None or not link.is_connected:
        return _back("Stripe is not connected.")
    return render_template("stripe_connect/disconnect.html", link=link)


@bp.post("/stripe/disconnect")
@login_required
def confirm_disconnect():
    """The owner's confirmation: revoke ShingleAI's access in Stripe; every customer
    stays."""
    link = StripeAccount.for_business(g.business)
    if link is None or not link.is_connected:
        return _back("Stripe is not connected.")
    try:
        connect.disconnect(link, current_app.config)
    except ConnectRefused as refused:
        return _back(str(refused))
    return _back(f"You disconnected Stripe ({link.label}). Your customers are still here.")
