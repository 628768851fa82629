"""Text that came from Stripe (or any outsider) shown so it cannot spoof what is
around it or itself: a customer email of ``\\u202emoc.live@nimda`` must not read as
"admin@evil.com". The ``isolate`` filter removes the bidirectional controls (the
embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069, and the marks
U+200E/U+200F, U+061C) and wraps the rest in ``<bdi>``, so a right-to-left name shows
as written without reordering its neighbours. Every template showing such text uses
it; where no tag may go (an attribute, ``<title>``), ``isolate(markup=False)``."""

from __future__ import annotations

import re

from flask import Flask
from markupsafe import Markup, escape

BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def without_bidi_controls(text: object) -> str:
    return BIDI_CONTROLS.sub("", "" if text is None else str(text))


def isolate(text: object, markup: bool = True) -> Markup | str:
    """``text`` without bidi controls, in its own ``<bdi>`` (empty for None)."""
    plain = without_bidi_controls(text)
    if not markup:
        return plain
    return Markup("<bdi>{}</bdi>").format(escape(plain)) if plain else Markup("")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["isolate"] = isolate
