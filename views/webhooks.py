"""Stripe webhooks (``POST /webhooks/stripe``), the sync health panel, and the owner's
Replay of an event our automatic replays no longer retry."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import RequestEntityTooLarge

from models.stripe_account import StripeAccount
from models.webhook_event import OUTCOME_LABELS, WebhookEvent
from sync import importer, webhook_input, webhooks
from sync.webhook_health import health_for
from sync.webhook_replay import NotReplayable, replay
from views import body_limits
from views.auth import login_required
from views.csrf import exempt
from views.public_url import public_url
from views.rendering import wants_fragment

bp = Blueprint("webhooks", __name__, cli_group=None)


def init_app(app: Flask) -> None:
    # The Stripe page's slot renders the panel in place; called only when it renders.
    app.jinja_env.globals["sync_health"] = _health_context


@bp.post("/webhooks/stripe")
@exempt
@body_limits.allow(webhook_input.MAX_BODY)
def receive():
    """Verify, record once and apply a Stripe event. Signed, so no login or CSRF."""
    if (request.content_length or 0) > webhook_input.MAX_BODY:
        abort(413)
    payload = _raw_body(webhook_input.MAX_BODY)
    try:
        webhook_input.verify(
            payload,
            request.headers.get("Stripe-Signature"),
            webhook_input.secrets_from(current_app.config),
        )
        event = webhook_input.parse(payload)
    except webhook_input.InvalidEvent as exc:
        return jsonify(error=str(exc)), 400
    result = webhooks.receive(event, payload, current_app.config)
    return jsonify(outcome=result.outcome, duplicate=result.duplicate), result.status


def _raw_body(limit: int) -> bytes:
    """The exact bytes Stripe signed (what ``request.get_data()`` returns), read at
    most one byte past ``limit``: a chunked body has no Content-Length to check first,
    and werkzeug's own limit would silently truncate it instead of refusing it."""
    chunks, size = [], 0
    while size <= limit:
        chunk = request.stream.read(min(64 * 1024, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        abort(413)
    return b"".join(chunks)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc):
    limit = webhook_input.MAX_BODY // 1024
    return jsonify(error=f"The body is larger than {limit} KB."), 413


def webhook_url() -> str:
    """The URL to configure in Stripe."""
    return public_url(url_for("webhooks.receive"))


def _health_context() -> dict | None:
    if g.get("business") is None:
        return None
    stale_after = importer.setting(current_app.config, "IMPORT_STALE_AFTER")
    return {
        "health": health_for(g.business, stale_after=stale_after),
        "outcome_labels": OUTCOME_LABELS,
    }


@bp.get("/stripe/health")
@login_required
def health():
    """The panel alone, for its own periodic htmx refresh."""
    return render_template("webhooks/_health.html", **_health_context())


@bp.post("/stripe/events/<int:webhook_event_id>/replay")
@login_required
def replay_event(webhook_event_id: int):
    """Apply a failed event of the owner's business again from its payload (through
    the support console's audited replay); another business's event does not exist."""
    row = WebhookEvent.get_or_none(WebhookEvent.id == webhook_event_id)
    accounts = StripeAccount.accounts_ever(g.business)
    if row is None or not row.belongs_to(g.business.id, accounts):
        abort(404)
    try:
        result = replay(row, g.business, g.user, current_app.config)
    except NotReplayable as refused:
        message = str(refused)
    else:
        message = (
            f"Replayed {row.type}: {OUTCOME_LABELS.get(result.outcome, result.outcome)}."
            if result.status == 200
            else f"Replayed {row.type}: it still could not be applied, and is retried "
            "automatically again."
        )
    if wants_fragment():
        return render_template("webhooks/_health.html", **_health_context(), replay_message=message)
    flash(message)
    return redirect(url_for("stripe_connect.index"))
