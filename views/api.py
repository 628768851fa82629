"""The JSON API (/api/v1) for callers that create customers directly in ShingleAI.

Authenticated only by ``Authorization: Bearer <API token>``: the session cookie is
never looked at, which is also why the API is exempt from CSRF. Every answer, errors
included, is JSON of the shapes documented at /api/v1/openapi.json.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request, url_for
from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed, NotFound

from models import customer_api
from models.api_errors import ApiError
from models.api_token import ApiToken, TokenError
from views.api_schema import openapi_document
from views.csrf import exempt
from views.mcp_server import mcp_command
from views.public_url import public_url

bp = Blueprint("api", __name__, url_prefix="/api/v1", cli_group=None)
bp.cli.add_command(mcp_command)

MAX_BODY = 64 * 1024
_PUBLIC = {"api.openapi"}
# As in Stripe, a parameter the API does not know is an error, not silently ignored:
# a typo such as ?synk=synced must not answer the unfiltered list.
_QUERY_PARAMETERS = {"api.list_customers": {"sync", "q", "cursor", "limit", "expand"}}


def init_app(app: Flask) -> None:
    # Routing failures (unknown path, wrong method) happen before a blueprint is
    # chosen, so only an app-level handler can answer them in JSON.
    app.register_error_handler(NotFound, _routing_error)
    app.register_error_handler(MethodNotAllowed, _routing_error)


def _routing_error(error: HTTPException):
    if request.path == bp.url_prefix or request.path.startswith(bp.url_prefix + "/"):
        return http_error_json(error)
    from views.errors import error_page

    return error_page(error)


def _error_response(error: ApiError) -> Response:
    response = jsonify(error.to_json())
    response.status_code = error.status
    if error.status == 401:
        # RFC 6750: no error attribute when the request carried no token at all.
        challenge = 'Bearer realm="ShingleAI API"'
        if error.code != "missing_token":
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
    return response


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return _error_response(error)


@bp.errorhandler(HTTPException)
def http_error_json(error: HTTPException) -> Response:
    """Werkzeug's own errors (413, 405, 404, 500…) in the API's JSON shape."""
    code = (error.name or "error").lower().replace(" ", "_")
    response = _error_response(ApiError(error.code or 500, code, error.description or ""))
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response


@bp.before_request
def _authenticate() -> None:
    """Find the caller's token; a session cookie alone authenticates nothing here."""
    request.max_content_length = MAX_BODY
    if request.endpoint in _PUBLIC:
        return
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise TokenError(401, "missing_token", "Send an API token: Authorization: Bearer shai_…")
    g.api_token = ApiToken.authenticate(secret.strip())
    for name in request.args:
        if name not in _QUERY_PARAMETERS.get(request.endpoint, ()):
            raise ApiError(400, "unknown_parameter", f"Unknown query parameter {name!r}.", name)


def _business_id() -> int:
    return g.api_token.business_id


def _json_body() -> object:
    if not request.is_json:
        raise ApiError(
            415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json)."
        )
    try:
        return request.get_json()
    except BadRequest as error:
        raise ApiError(400, "invalid_json", "The body is not valid JSON.") from error


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API; public, like any API reference."""
    return jsonify(openapi_document(public_url(request.script_root + bp.url_prefix)))


@bp.get("/customers")
def list_customers():
    page = customer_api.list_customers(
        _business_id(),
        sync=request.args.get("sync", "all"),
        q=request.args.get("q", ""),
        cursor=request.args.get("cursor") or None,
        limit=request.args.get("limit"),
        expand=request.args.get("expand"),
        time_limit_ms=float(current_app.config["LIST_TIME_LIMIT_MS"]),
    )
    return jsonify(page.to_json())


@bp.get("/customers/<int:customer_id>")
def get_customer(customer_id: int):
    customer = customer_api.get_customer(_business_id(), customer_id)
    return jsonify(customer_api.customer_json(customer, stripe=True))


@bp.post("/customers")
@exempt
def create_customer():
    """Create a not-synced customer; ``Idempotency-Key`` makes retries safe."""
    g.api_token.require_write()
    outcome = customer_api.create_customer(
        _business_id(),
        _json_body(),
        idempotency_key=request.headers.get("Idempotency-Key"),
        token_id=g.api_token.id,
    )
    response = jsonify(outcome.body)
    response.status_code = outcome.status
    if outcome.status == 201:
        response.headers["Location"] = url_for(".get_customer", customer_id=outcome.body["id"])
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.patch("/customers/<int:customer_id>")
@exempt
def update_customer(customer_id: int):
    """Edit name and/or email; synced rows come back with a ``warning``."""
    g.api_token.require_write()
    return jsonify(customer_api.update_customer(_business_id(), customer_id, _json_body()))
