"""URL parts as the database can hold them: an ``<int:…>`` path argument beyond
SQLite's 64-bit integers names no row, so it answers 404 like any other missing row
instead of overflowing the driver (a 500)."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

INT64_MAX = 2**63 - 1


class Int64Converter(IntegerConverter):
    """``<int:…>`` limited to 0…2**63-1 (werkzeug's own is unbounded)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(
            url_map,
            fixed_digits=fixed_digits,
            min=min,
            max=INT64_MAX if max is None else max,
            signed=signed,
        )


def init_app(app: Flask) -> None:
    """Install before any blueprint registers its rules."""
    app.url_map.converters["int"] = Int64Converter
