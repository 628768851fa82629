"""Customer create/update parameters: which are allowed and how they change a customer."""

from __future__ import annotations

from typing import Any

from stripe_sandbox import errors

ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")
TEXT_FIELDS = ("description", "email", "name", "phone")
WRITABLE = {*TEXT_FIELDS, "address", "metadata", "preferred_locales", "tax_exempt", "expand"}


def check(params: dict[str, Any]) -> None:
    for name in params:
        if name not in WRITABLE:
            raise errors.unknown_param(name)


def apply(cust: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Write create/update params onto a customer; "" unsets, as in Stripe's form API."""
    for name in TEXT_FIELDS:
        if name in params:
            cust[name] = params[name] or None
    if "address" in params:
        address = params["address"]
        cust["address"] = (
            {f: (address.get(f) or None) for f in ADDRESS_FIELDS}
            if isinstance(address, dict)
            else None
        )
    if "metadata" in params:
        meta = params["metadata"]
        merged = dict(cust["metadata"]) if isinstance(meta, dict) else {}
        for key, value in (meta if isinstance(meta, dict) else {}).items():
            if value == "":
                merged.pop(key, None)
            else:
                merged[key] = value
        cust["metadata"] = merged
    if "preferred_locales" in params:
        locales = params["preferred_locales"]
        cust["preferred_locales"] = locales if isinstance(locales, list) else []
    if "tax_exempt" in params:
        cust["tax_exempt"] = params["tax_exempt"] or "none"
    return cust


def previous_attributes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Prior values of changed fields; for metadata only the changed keys, as Stripe does."""
    previous: dict[str, Any] = {}
    for name, value in new.items():
        if old.get(name) == value:
            continue
        if name == "metadata":
            keys = set(old[name]) | set(value)
            previous[name] = {k: old[name].get(k) for k in keys if old[name].get(k) != value.get(k)}
        else:
            previous[name] = old.get(name)
    return previous
