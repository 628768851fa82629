"""Error pages in the app's layout (with its navigation), so a 404 or a 500 is a page
the owner can leave by a link instead of a bare framework page. JSON stays JSON under
``/api/``: the API area answers its own errors."""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from flask.globals import request_ctx as _request_ctx
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

# What each status means to an owner, and what to do about it.
_EXPLAINED = {
    400: ("Something in that request was not right", "Go back, reload the page and try again."),
    404: ("Page not found", "The page may have moved, or the link is out of date."),
    405: ("That action is not available here", "Use the page's own buttons and links."),
    413: ("That was too large", "Send something smaller."),
    429: ("Too many requests", "Wait a moment, then try again."),
    500: ("Something went wrong on our side", "It was logged. Try again in a moment."),
}


def _api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def error_page(error: HTTPException) -> Response | HTTPException:
    """The error as a page of the app; the API's own errors stay JSON."""
    if _api_request():
        from views.api import http_error_json

        return http_error_json(error)
    if _request_ctx.url_adapter is None:
        # Routing never started (an untrusted Host header): no URL can be built, so no
        # page with links either; Werkzeug's plain answer is the right one.
        return error
    code = error.code or 500
    title, hint = _EXPLAINED.get(code, (error.name, "Go back and try again."))
    # Werkzeug's default descriptions are generic; ours (abort(400, "…")) say more.
    detail = error.description if error.description != type(error).description else None
    body = render_template(
        "errors/error.html", code=code, title=title, hint=hint, detail=detail, name=error.name
    )
    response = Response(body, status=code, mimetype="text/html")
    if code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response


def _server_error(error: InternalServerError) -> Response | HTTPException:
    original = getattr(error, "original_exception", None)
    if original is not None:
        log.error("Unhandled error on %s %s", request.method, request.path, exc_info=original)
    return error_page(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, error_page)
    app.register_error_handler(InternalServerError, _server_error)
