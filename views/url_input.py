"""URL parts as the database can hold them: an ``<int:…>`` path argument beyond
SQLite's 64-bit integers names no row, so it answers 404 like any other missing row
instead of overflowing the driver (a 500).

Checked after routing, not by a bounded converter: werkzeug answers a converter's
refusal with 405 for the rule's other methods, which is neither true nor documented."""

from __future__ import annotations

from flask import Flask, abort

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _refuse_out_of_range(_endpoint: str | None, values: dict | None) -> None:
    for value in (values or {}).values():
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            abort(404)


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_refuse_out_of_range)
