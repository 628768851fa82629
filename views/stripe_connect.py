"""Connect Stripe"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("stripe_connect", __name__, cli_group=None)
