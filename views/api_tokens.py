"""The settings page where an owner creates and revokes API tokens."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_tokens", __name__, cli_group=None)
