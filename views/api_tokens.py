"""The settings page where an owner creates and revokes API tokens for the JSON API
and the MCP server. A new token's secret is shown once, on the answer to the POST
that made it, and never again."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for

from models.api_token import READ_WRITE, SCOPES, ApiToken, validate_token_fields
from views.auth import login_required
from views.rendering import page_or_fragment, wants_fragment

bp = Blueprint("api_tokens", __name__, url_prefix="/settings/api-tokens", cli_group=None)


def _render(status: int = 200, **context) -> Response:
    context.setdefault("form", {"name": "", "scope": READ_WRITE})
    response = page_or_fragment(
        "api_tokens/index.html",
        "api_tokens/_panel.html",
        tokens=list(ApiToken.for_business(g.business)),
        scopes=SCOPES,
        **context,
    )
    response.status_code = status
    # The page may carry a secret shown once: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@login_required
def index():
    return _render()


@bp.post("")
@login_required
def create():
    """Make a token for the owner's primary business and show its secret once."""
    form = {"name": request.form.get("name", "").strip(), "scope": request.form.get("scope", "")}
    errors = validate_token_fields(form["name"], form["scope"])
    if errors:
        # htmx swaps only 2xx answers, so the fragment with inline errors is a 200;
        # the full page (no JavaScript) says 400.
        return _render(200 if wants_fragment() else 400, form=form, errors=errors)
    token, secret = ApiToken.issue(g.user, g.business, form["name"], form["scope"])
    return _render(201, created=token, secret=secret)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    """Revoke a token of this business at once: its next API call answers 401."""
    token = ApiToken.revoke(g.business, token_id)
    if token is None:
        abort(404)
    if wants_fragment():
        return _render(revoked=token)
    flash(f"Revoked the token “{token.name}”.")
    return redirect(url_for("api_tokens.index"))
