"""connect.stripe.com: the authorize page, `/oauth/token` and `/oauth/deauthorize`."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request

from stripe_sandbox import errors, grants
from stripe_sandbox.auth import platform_key
from stripe_sandbox.context import sandbox

bp = Blueprint("oauth", __name__, url_prefix="/oauth")

DENIED = "The user denied your request"


@bp.get("/authorize")
def authorize() -> str:
    """The consent page. Bad requests are shown here, not redirected, as Stripe does."""
    sb = sandbox()
    problem = _authorize_problem(sb.settings)
    with sb.store.lock:
        accounts = list(sb.store.accounts.values())
    return render_template(
        "authorize.html",
        problem=problem,
        platform=sb.settings.platform_name,
        accounts=sorted(accounts, key=lambda a: a.created),
        preselected=_linked_before(accounts),
        args=request.args,
        redirect_uri=request.args.get("redirect_uri") or sb.settings.redirect_uri,
    ), (400 if problem else 200)


@bp.post("/authorize")
def decide() -> Response:
    """ "Connect" issues a code for the chosen (or a new) account; "Cancel" denies."""
    sb = sandbox()
    form = request.form
    target = form.get("redirect_uri") or sb.settings.redirect_uri
    if not target:
        abort(400)
    answer = {"state": form["state"]} if form.get("state") else {}
    if form.get("action") != "connect":
        query = {"error": "access_denied", "error_description": DENIED, **answer}
    else:
        account = form.get("account") or "new"
        code = grants.issue_code(
            sb.store,
            None if account == "new" else account,
            name=form.get("name", "").strip(),
            customers=max(0, min(int(form.get("customers") or 0), 100_000)),
        )
        query = {"scope": form.get("scope") or "read_write", "code": code, **answer}
    sep = "&" if "?" in target else "?"
    return redirect(target + sep + urlencode(query))


@bp.post("/token")
def token() -> Response:
    sb = sandbox()
    sb.faults.latency("oauth")
    platform_key(request, sb.settings.api_key)
    grant = request.form.get("grant_type")
    if grant == "authorization_code":
        code = request.form.get("code")
        if not code:
            raise errors.OAuthError("invalid_request", "No authorization code provided")
        return jsonify(grants.exchange_code(sb.store, code, sb.faults.get("oauth_code_ttl_s")))
    if grant == "refresh_token":
        return jsonify(grants.refresh(sb.store, request.form.get("refresh_token", "")))
    raise errors.OAuthError("unsupported_grant_type", f"Unsupported grant type: {grant}")


@bp.post("/deauthorize")
def deauthorize() -> Response:
    sb = sandbox()
    sb.faults.latency("oauth")
    platform_key(request, sb.settings.api_key)
    account = request.form.get("stripe_user_id")
    if not account:
        raise errors.OAuthError("invalid_request", "No stripe_user_id provided")
    client_id = request.form.get("client_id", "")
    return jsonify(grants.deauthorize(sb.store, client_id, account))


def _linked_before(accounts) -> str | None:
    """The account most recently authorized for this platform, if any."""
    authorized = [a for a in accounts if getattr(a, "authorized_at", 0)]
    return max(authorized, key=lambda a: a.authorized_at).id if authorized else None


def _authorize_problem(settings) -> str | None:
    args = request.args
    if args.get("client_id") != settings.client_id:
        return f"invalid_client: No such application: '{args.get('client_id', '')}'"
    if args.get("response_type", "code") != "code":
        return "unsupported_response_type: Only 'code' is supported"
    if args.get("scope", "read_write") not in ("read_write", "read_only"):
        return f"invalid_scope: Invalid scope: {args.get('scope')}"
    if not (args.get("redirect_uri") or settings.redirect_uri):
        return "invalid_redirect_uri: No redirect_uri given and none configured"
    return None
