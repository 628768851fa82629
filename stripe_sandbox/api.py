"""`/v1` customers and events, answered with Stripe's shapes, statuses and headers.

Every request goes through `guard`: latency, platform key (401), `Stripe-Account`
access (403), rate limit (429), then the random connection drops and 5xx faults.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import time

from flask import Blueprint, Response, g, request

from stripe_sandbox import errors, objects
from stripe_sandbox.auth import platform_key
from stripe_sandbox.context import sandbox
from stripe_sandbox.list_params import CUSTOMER_LIST_PARAMS, event_list_params, list_params
from stripe_sandbox.params import decode
from stripe_sandbox.store import Request

bp = Blueprint("api", __name__, url_prefix="/v1")
# Where `guard` leaves the seconds `held_answers` holds this request's answer.
ANSWER_DELAY = "stripe_sandbox.answer_delay"


@bp.before_request
def guard() -> Response | None:
    sb = sandbox()
    g.req = Request(objects.new_id("req_"), request.headers.get("Idempotency-Key"))
    kind = "write" if request.method != "GET" else "retrieve" if request.view_args else "list"
    request.environ[ANSWER_DELAY] = sb.faults.answer_delay(kind)
    sb.faults.latency(kind)
    key = platform_key(request, sb.settings.api_key)
    account = request.headers.get("Stripe-Account")
    if request.endpoint == "api.retrieve_account":
        # The platform reads a connected account by its id, no Stripe-Account needed.
        account = account or (request.view_args or {}).get("acct")
    if not account:
        raise errors.StripeError(
            400,
            "This sandbox only emulates connected accounts: send a Stripe-Account header.",
            param="Stripe-Account",
        )
    g.account = sb.store.accessible(account, key).id
    if not sb.faults.allow(g.account):
        raise errors.rate_limited()
    if sb.faults.chance("drop_rate"):
        return _drop_connection()
    if sb.faults.chance("error_rate") or sb.faults.chance(f"{kind}_error_rate"):
        raise errors.server_error()
    return None


def held_answers(wsgi_app):
    """Wrap the sandbox's WSGI app so an API answer can be held after it is served and
    before the server sends it: the status line and ``Date`` are written when the body
    is, so the ``Date`` comes after the hold, as from a Stripe slow to answer."""

    def app(environ, start_response):
        body = wsgi_app(environ, start_response)
        delay = environ.get(ANSWER_DELAY) or 0
        if delay > 0:
            time.sleep(delay)
        return body

    return app


@bp.after_request
def stripe_headers(resp: Response) -> Response:
    resp.headers["Request-Id"] = g.get("req", Request("req_none")).id or ""
    resp.headers["Stripe-Version"] = (
        request.headers.get("Stripe-Version") or sandbox().settings.api_version
    )
    if request.headers.get("Stripe-Account"):
        resp.headers["Stripe-Account"] = request.headers["Stripe-Account"]
    return resp


@bp.get("/accounts/<acct>")
def retrieve_account(acct: str) -> Response:
    """403 (by `guard`) unless the account is connected to our platform, as Stripe."""
    if acct != g.account:
        raise errors.no_access(sandbox().settings.api_key, acct)
    found = sandbox().store.account(acct)
    return _json(objects.dumps(objects.account(found.id, found.name, found.created)))


@bp.get("/customers")
def list_customers() -> Response:
    params = list_params(CUSTOMER_LIST_PARAMS)
    raws, has_more = sandbox().store.list_customers(g.account, params)
    return _list(raws, has_more, "/v1/customers")


@bp.post("/customers")
def create_customer() -> Response:
    return _idempotent(lambda p: sandbox().store.create_customer(g.account, p, g.req))


@bp.get("/customers/<cid>")
def retrieve_customer(cid: str) -> Response:
    params = decode(request.args.items(multi=True))
    return _json(sandbox().store.retrieve_customer(g.account, cid, params))


@bp.post("/customers/<cid>")
def update_customer(cid: str) -> Response:
    return _idempotent(lambda p: sandbox().store.update_customer(g.account, cid, p, g.req))


@bp.delete("/customers/<cid>")
def delete_customer(cid: str) -> Response:
    return _json(objects.dumps(sandbox().store.delete_customer(g.account, cid, g.req)))


@bp.post("/customers/<cid>/tax_ids")
def create_tax_id(cid: str) -> Response:
    return _idempotent(lambda p: sandbox().store.create_tax_id(g.account, cid, p, g.req))


@bp.get("/customers/<cid>/tax_ids")
def list_tax_ids(cid: str) -> Response:
    return _json(objects.dumps(sandbox().store.list_tax_ids(g.account, cid)))


@bp.get("/customers/<cid>/tax_ids/<txi>")
def retrieve_tax_id(cid: str, txi: str) -> Response:
    return _json(objects.dumps(sandbox().store.retrieve_tax_id(g.account, cid, txi)))


@bp.delete("/customers/<cid>/tax_ids/<txi>")
def delete_tax_id(cid: str, txi: str) -> Response:
    return _json(objects.dumps(sandbox().store.delete_tax_id(g.account, cid, txi, g.req)))


@bp.get("/events")
def list_events() -> Response:
    params = event_list_params()
    sb = sandbox()
    raws, has_more = sb.store.list_events(g.account, params, sb.dispatcher.delivery_success)
    return _list(raws, has_more, "/v1/events")


@bp.get("/events/<eid>")
def retrieve_event(eid: str) -> Response:
    return _json(sandbox().store.retrieve_event(g.account, eid))


def _json(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="application/json")


def _list(raws: list[bytes], has_more: bool, url: str) -> Response:
    return _json(
        b'{"object":"list","data":['
        + b",".join(raws)
        + b'],"has_more":'
        + (b"true" if has_more else b"false")
        + b',"url":"'
        + url.encode()
        + b'"}'
    )


def _idempotent(action) -> Response:
    """Run a POST once per Idempotency-Key; a retry with the same key replays the answer."""
    sb = sandbox()
    params = decode(request.form.items(multi=True))
    key = request.headers.get("Idempotency-Key")
    if not key:
        return _json(objects.dumps(action(params)))
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
    slot = (g.account, key)
    with sb.idempotency_lock:
        seen = sb.idempotency.get(slot)
        if seen is not None:
            if seen[0] != (request.path, digest):
                raise errors.StripeError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with. Try using a key other than "
                    f"'{key}' if you meant to execute a different request.",
                    type="idempotency_error",
                )
            resp = _json(seen[2], seen[1])
            resp.headers["Idempotent-Replayed"] = "true"
            return resp
        body = objects.dumps(action(params))
        sb.idempotency[slot] = ((request.path, digest), 200, body)
    return _json(body)


def _drop_connection() -> Response:
    """Cut the TCP connection without answering, like a network failure mid-request."""
    sock = request.environ.get("werkzeug.socket")
    if sock is None:  # not served by werkzeug: the closest we can do is a bare 503
        return Response(status=503)
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return Response(status=503)
