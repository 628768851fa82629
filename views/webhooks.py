"""Stripe webhooks and the sync health panel."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("webhooks", __name__, cli_group=None)
