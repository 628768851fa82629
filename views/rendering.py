"""One URL serves the full page or, for a plain htmx request, just the fragment."""

from __future__ import annotations

from flask import Response, make_response, render_template
from flask_htmx import HTMX

# Registered on the app by create_app(); its properties only read request headers.
htmx = HTMX()


def wants_fragment() -> bool:
    """A fragment only for a non-boosted htmx request that is not restoring history:
    those two expect a whole page."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def page_or_fragment(page_template: str, fragment_template: str, /, **context) -> Response:
    """Render the fragment alone for htmx, the page otherwise; caches must keep the two
    apart, hence ``Vary: HX-Request``."""
    body = render_template(fragment_template if wants_fragment() else page_template, **context)
    response = make_response(body)
    response.vary.add("HX-Request")
    return response
