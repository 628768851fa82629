"""Customer create/update parameters: which are allowed, how they are checked, and how
they change a customer. Every accepted field is stored and returned in Stripe's shape."""

from __future__ import annotations

import re
from typing import Any

from stripe_sandbox import errors

ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")
TEXT_FIELDS = ("description", "email", "name", "phone")
UPDATABLE = {
    *TEXT_FIELDS,
    "address",
    "balance",
    "expand",
    "invoice_prefix",
    "invoice_settings",
    "metadata",
    "preferred_locales",
    "shipping",
    "tax_exempt",
}
# `tax_id_data` exists on create only; later tax ids go through /customers/{id}/tax_ids.
CREATABLE = {*UPDATABLE, "tax_id_data"}
TAX_EXEMPT = ("none", "exempt", "reverse")
INVOICE_SETTINGS = ("custom_fields", "default_payment_method", "footer", "rendering_options")
_PREFIX = re.compile(r"[A-Z0-9]{3,12}")


def check(params: dict[str, Any], *, creating: bool = False) -> None:
    """Refuse what Stripe refuses, with its message and `param`."""
    for name in params:
        if name not in (CREATABLE if creating else UPDATABLE):
            raise errors.unknown_param(name)
    if params.get("balance") not in (None, ""):
        try:
            int(params["balance"])
        except (TypeError, ValueError):
            raise errors.bad_param("balance", f"Invalid integer: {params['balance']}") from None
    if params.get("tax_exempt") not in (None, "", *TAX_EXEMPT):
        raise errors.StripeError(
            400, f"Invalid tax_exempt: must be one of {', '.join(TAX_EXEMPT)}", param="tax_exempt"
        )
    prefix = params.get("invoice_prefix")
    if prefix and not _PREFIX.fullmatch(prefix):
        raise errors.StripeError(
            400,
            "Invoice prefix must be 3 to 12 uppercase letters or numbers.",
            param="invoice_prefix",
        )
    shipping = params.get("shipping")
    if isinstance(shipping, dict) and not (
        shipping.get("name") and isinstance(shipping.get("address"), dict)
    ):
        missing = "shipping[name]" if not shipping.get("name") else "shipping[address]"
        raise errors.StripeError(400, f"Missing required param: {missing}.", param=missing)
    settings = params.get("invoice_settings")
    if settings is not None:
        for name in settings if isinstance(settings, dict) else ["invoice_settings"]:
            if name not in INVOICE_SETTINGS:
                raise errors.unknown_param(f"invoice_settings[{name}]")


def _address(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None  # "" unsets it
    return {f: (value.get(f) or None) for f in ADDRESS_FIELDS}


def _invoice_settings(current: dict[str, Any] | None, value: dict[str, Any]) -> dict[str, Any]:
    settings = dict(current or dict.fromkeys(INVOICE_SETTINGS))
    if "footer" in value:
        settings["footer"] = value["footer"] or None
    if "default_payment_method" in value:
        settings["default_payment_method"] = value["default_payment_method"] or None
    if "custom_fields" in value:
        fields = value["custom_fields"]
        settings["custom_fields"] = (
            [{"name": f.get("name"), "value": f.get("value")} for f in fields]
            if isinstance(fields, list) and fields
            else None
        )
    if "rendering_options" in value:
        options = value["rendering_options"]
        settings["rendering_options"] = (
            {
                "amount_tax_display": options.get("amount_tax_display") or None,
                "template": options.get("template") or None,
            }
            if isinstance(options, dict)
            else None
        )
    return settings


def apply(cust: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Write create/update params onto a customer; "" unsets, as in Stripe's form API."""
    for name in TEXT_FIELDS:
        if name in params:
            cust[name] = params[name] or None
    if "address" in params:
        cust["address"] = _address(params["address"])
    if "shipping" in params:
        shipping = params["shipping"]
        cust["shipping"] = (
            {
                "address": _address(shipping["address"]),
                "name": shipping["name"],
                "phone": shipping.get("phone") or None,
            }
            if isinstance(shipping, dict)
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
    if "balance" in params:
        cust["balance"] = int(params["balance"] or 0)
    if params.get("invoice_prefix"):
        cust["invoice_prefix"] = params["invoice_prefix"]
    if isinstance(params.get("invoice_settings"), dict):
        cust["invoice_settings"] = _invoice_settings(
            cust.get("invoice_settings"), params["invoice_settings"]
        )
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
