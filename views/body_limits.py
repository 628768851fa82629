"""Request bodies are capped everywhere, and a refused body never breaks the client's
connection.

``MAX_CONTENT_LENGTH`` (64 KB: any dashboard form, the API's JSON) applies to every
route; the Stripe webhook raises its own route's limit to 1 MB. When the app answers
before reading a body (a 413, a 401, a redirect to the login page), the unread rest
is still on the socket. gunicorn announces keep-alive, drains only 64 KB itself and
then drops the connection, so the client's next request on it failed. The
middleware below reads the rest after the answer (up to ``DRAIN_LIMIT``), so the
kept-alive connection serves the next request. (werkzeug's development server closes
every connection and drains it itself.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from flask import Flask, abort, current_app, request

MAX_BODY = 64 * 1024
# A client that sends more than this after being refused loses its connection.
DRAIN_LIMIT = 16 * 1024 * 1024
_CHUNK = 64 * 1024


_LIMIT_ATTR = "_max_body"


def allow(limit: int):
    """Let one view take bodies up to ``limit`` bytes instead of the app's cap."""

    def mark(view):
        setattr(view, _LIMIT_ATTR, limit)
        return view

    return mark


def _refuse_large_bodies() -> None:
    """Refuse before the view runs, even a view that never reads its body: it must not
    act on a request it would refuse had it looked. A chunked body (no length) is cut
    off by werkzeug when read past the same limit."""
    view = current_app.view_functions.get(request.endpoint)
    limit = getattr(view, _LIMIT_ATTR, current_app.config["MAX_CONTENT_LENGTH"])
    request.max_content_length = limit
    if (request.content_length or 0) > limit:
        abort(413)


class _Drained:
    """The app's answer, unchanged; closing it reads what is left of the body."""

    def __init__(self, answer: Iterable[bytes], body):
        self._answer, self._body = answer, body

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._answer)

    def close(self) -> None:
        try:
            if hasattr(self._answer, "close"):
                self._answer.close()
        finally:
            left = DRAIN_LIMIT
            while left > 0 and (chunk := self._body.read(min(_CHUNK, left))):
                left -= len(chunk)


class DrainUnreadBody:
    """WSGI middleware for gunicorn, whose ``wsgi.input`` ends where the body ends."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        answer = self.wsgi_app(environ, start_response)
        if "gunicorn.socket" not in environ:
            return answer
        return _Drained(answer, environ["wsgi.input"])


def init_app(app: Flask) -> None:
    if not app.config["MAX_CONTENT_LENGTH"]:  # Flask's default is no limit at all
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.before_request(_refuse_large_bodies)
    app.wsgi_app = DrainUnreadBody(app.wsgi_app)
