"""Blueprints, one per page area, and the helpers they share."""
