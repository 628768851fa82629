"""The owner's preferences the browser reports by itself: for now, the time zone
(``static/app.js`` reads it from the Intl API), so every page shows local times."""

from __future__ import annotations

from flask import Blueprint, abort, g, request

from views.auth import login_required
from views.local_time import valid_zone

bp = Blueprint("preferences", __name__, cli_group=None)


@bp.post("/settings/time-zone")
@login_required
def time_zone():
    """Remember the browser's IANA time zone; an unknown name is refused (400)."""
    name = valid_zone(request.form.get("time_zone", "").strip())
    if name is None:
        abort(400, "Unknown time zone: send an IANA name such as Europe/Berlin.")
    g.user.remember_time_zone(name)
    return "", 204
