"""The initial import"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("imports", __name__, cli_group=None)
