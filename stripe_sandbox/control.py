"""`/_sandbox/*`: the JSON control API used by tests, the CLI and benchmarks.

It is not part of Stripe; it does what a person would do in Stripe's dashboard (create
accounts, revoke access, edit customers) plus the sandbox's own fault settings. Anyone
who can call it can mint OAuth codes and revoke access, so it answers only loopback
clients that send the sandbox's control token (``X-Sandbox-Token``), whatever address
the sandbox itself listens on.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from flask import Blueprint, Response, jsonify, request

from stripe_sandbox import errors, grants
from stripe_sandbox.context import sandbox

bp = Blueprint("control", __name__, url_prefix="/_sandbox")

TOKEN_HEADER = "X-Sandbox-Token"


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


@bp.before_request
def _authenticate() -> Response | None:
    if not _is_loopback(request.remote_addr):
        return jsonify({"error": "the control API answers only this machine"}), 403
    sent = request.headers.get(TOKEN_HEADER, "")
    expected = sandbox().settings.control_token or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return jsonify({"error": f"send the sandbox's control token in {TOKEN_HEADER}"}), 401
    return None


def _body() -> dict[str, Any]:
    return request.get_json(silent=True) or {}


@bp.route("/config", methods=["GET", "POST"])
def config() -> Response:
    try:
        return jsonify(sandbox().faults.configure(**_body()))
    except KeyError as exc:
        return jsonify({"error": f"unknown setting: {exc.args[0]}"}), 400


@bp.get("/accounts")
def accounts() -> Response:
    store = sandbox().store
    with store.lock:
        rows = [
            {"id": a.id, "name": a.name, "connected": a.connected, "customers": len(a.customers)}
            for a in store.accounts.values()
        ]
    return jsonify({"data": rows})


@bp.post("/accounts")
def create_account() -> Response:
    body = _body()
    account = sandbox().store.create_account(
        body.get("name") or "Demo shop",
        connected=bool(body.get("connected", True)),
        customers=int(body.get("customers") or 0),
    )
    return jsonify({"id": account.id})


@bp.post("/accounts/<acct>/seed")
def seed(acct: str) -> Response:
    """Add ``n`` fake customers, or one per stamp of ``created`` (a list of seconds)."""
    body = _body()
    created = body.get("created")
    if created is not None and (
        not isinstance(created, list) or not all(isinstance(c, int) for c in created)
    ):
        return jsonify({"error": "created must be a list of integer seconds"}), 400
    return jsonify({"seeded": sandbox().store.seed(acct, int(body.get("n") or 0), created)})


@bp.post("/accounts/<acct>/events")
def seed_event(acct: str) -> Response:
    """Record an event Stripe made at second ``created`` (history whose deliveries
    failed: it is not delivered now, and ``delivery_success=false`` lists it): how tests
    reach events near or past Stripe's 30-day retention without a test clock."""
    body = _body()
    created = body.get("created")
    if not isinstance(created, int) or isinstance(created, bool):
        return jsonify({"error": "created must be an integer second"}), 400
    evt = sandbox().store.seed_event(acct, str(body.get("type")), created, body.get("customer"))
    sandbox().dispatcher.failed_long_ago(evt["id"])
    return jsonify({"id": evt["id"], "created": evt["created"]})


@bp.post("/accounts/<acct>/deauthorize")
def deauthorize(acct: str) -> Response:
    sandbox().store.revoke(acct)
    return jsonify({"stripe_user_id": acct})


@bp.post("/webhook_endpoints")
def add_webhook_endpoint() -> Response:
    body = _body()
    sandbox().store.add_endpoint(body["url"], body["secret"])
    return jsonify({"url": body["url"]})


@bp.get("/deliveries")
def deliveries() -> Response:
    dispatcher = sandbox().dispatcher
    return jsonify({"data": dispatcher.log(), "pending": dispatcher.pending()})


@bp.post("/oauth/code")
def oauth_code() -> Response:
    body = _body()
    code = grants.issue_code(
        sandbox().store,
        body.get("account"),
        name=body.get("name", ""),
        customers=int(body.get("customers") or 0),
    )
    return jsonify({"code": code})


@bp.post("/trigger")
def trigger() -> Response:
    """Cause a real change that emits the event type asked for (like `stripe trigger`)."""
    body = _body()
    store = sandbox().store
    kind, acct, cid = body.get("type"), body.get("account"), body.get("customer")
    if not acct:
        raise errors.StripeError(400, "account is required", param="account")
    if kind == "account.application.deauthorized":
        store.revoke(acct)
        return jsonify({"type": kind, "account": acct})
    if kind == "customer.created" or (kind in ("customer.updated", "customer.deleted") and not cid):
        cid = store.create_customer(acct, {"name": "Triggered Customer"})["id"]
    if kind == "customer.updated":
        store.update_customer(acct, cid, {"name": body.get("name") or "Updated Customer"})
    elif kind == "customer.deleted":
        store.delete_customer(acct, cid)
    elif kind != "customer.created":
        raise errors.StripeError(400, f"cannot trigger {kind}", param="type")
    return jsonify({"type": kind, "account": acct, "customer": cid})
