"""Waiting for htmx in browser tests."""

from __future__ import annotations


def settled(page) -> None:
    """Wait until htmx has finished swapping and wiring new content: a key pressed or
    a click made within those few milliseconds reaches an element htmx does not
    handle yet, and the browser follows the plain link or form instead."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )
