"""The JSON API (/api/v1) for callers that create customers directly in ShingleAI."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, cli_group=None)
