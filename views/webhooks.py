"""Stripe webhooks (``POST /webhooks/stripe``) and the sync health panel."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import RequestEntityTooLarge

from sync import webhook_input, webhooks
from sync.webhook_health import health_for
from views.auth import login_required
from views.csrf import exempt

bp = Blueprint("webhooks", __name__, cli_group=None)


def init_app(app: Flask) -> None:
    # The Stripe page's slot renders the panel in place; called only when it renders.
    app.jinja_env.globals["sync_health"] = _health_context


@bp.post("/webhooks/stripe")
@exempt
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
    """The URL to configure in Stripe (shown in the support console): PUBLIC_URL when
    set (how Stripe reaches us behind a proxy), else this request's host."""
    public = current_app.config.get("PUBLIC_URL", "").rstrip("/")
    if public:
        return public + url_for("webhooks.receive")
    return url_for("webhooks.receive", _external=True)


def _health_context() -> dict | None:
    if g.get("business") is None:
        return None
    return {"health": health_for(g.business)}


@bp.get("/stripe/health")
@login_required
def health():
    """The panel alone, for its own periodic htmx refresh."""
    return render_template("webhooks/_health.html", **_health_context())
