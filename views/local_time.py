"""Dates and times, one style everywhere: in the owner's time zone (detected by the
browser, remembered on the user row), with the UTC moment on hover. Templates use the
``when`` filter; nothing else formats a moment for a page."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import Flask, g
from markupsafe import Markup, escape

from models.user import utcnow


def valid_zone(name: str | None) -> str | None:
    """``name`` when it is an IANA time zone this server knows, else None."""
    if not name or len(name) > 64 or name not in _known_zones():
        return None
    return name


_ZONES: set[str] = set()


def _known_zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def owner_zone() -> ZoneInfo:
    user = g.get("user")
    name = valid_zone(getattr(user, "time_zone", None)) or "UTC"
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return ZoneInfo("UTC")


def when(moment: datetime | None, date_only: bool = False, empty: str = "—") -> Markup:
    """``moment`` (naive UTC, as stored) as ``<time>``: "Nov 30, 2026, 21:53 CET" in the
    owner's zone ("Nov 30, 2026" with ``date_only``), the UTC moment in its title."""
    if moment is None:
        return Markup(escape(empty))
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    local = utc.astimezone(owner_zone())
    if date_only:
        shown = f"{local:%b} {local.day}, {local:%Y}"
    else:
        shown = f"{local:%b} {local.day}, {local:%Y}, {local:%H:%M} {local.tzname()}"
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"), utc.strftime("%Y-%m-%d %H:%M:%S UTC"), shown
    )


def init_app(app: Flask) -> None:
    app.jinja_env.filters["when"] = when
    # Whether a stored moment has passed is decided at render time, never cached.
    app.jinja_env.globals["now_utc"] = utcnow
