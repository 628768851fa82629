"""Request input as the database can hold it: an ``<int:…>`` path argument beyond
SQLite's 64-bit integers names no row, so it answers 404 like any other missing row
instead of overflowing the driver (a 500); and a NUL in a page's query string or form
is refused as bad input.

Checked after routing, not by a bounded converter: werkzeug answers a converter's
refusal with 405 for the rule's other methods, which is neither true nor documented."""

from __future__ import annotations

from flask import Flask, abort, request

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _refuse_out_of_range(_endpoint: str | None, values: dict | None) -> None:
    for value in (values or {}).values():
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            abort(404)


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_refuse_out_of_range)


def _refuse_nul() -> None:
    """No text a person can type holds a NUL character, and Postgres cannot store or
    compare one: a page's query string or form carrying it is refused (400, on the
    app's error page). The JSON API checks its own parameters, in its own shape."""
    if request.blueprint == "api":
        return
    fields = [*request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields += request.form.values()
    if any("\x00" in value for value in fields):
        abort(400, "A field holds a NUL character: remove it and try again.")


def init_nul_check(app: Flask) -> None:
    """After the body limit (reading a form must not read an oversized body)."""
    app.before_request(_refuse_nul)
