"""How ``customer.stripe_object`` holds Stripe's customer object: compact JSON without
the fields that still have a fresh customer's value.

Most of a Stripe customer is nulls, empty collections and defaults (``"discount":null``,
``"metadata":{}``, ``"invoice_settings":{…four nulls…}``), about 400 of its 650 bytes,
and its expanded ``tax_ids`` list is 100 bytes of envelope around usually nothing.
``pack`` leaves out every field equal to its entry in ``FRESH`` and keeps only the
``data`` array of a standard ``tax_ids`` list; ``unpack`` puts both back, so the stored
text reconstructs the object exactly: a field of ``FRESH`` that the object did not have
at all is listed under ``_absent`` (Stripe never sends keys that start with an
underscore), so it is not invented on the way back.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

# A fresh Stripe customer's value of each field that is usually left at it.
FRESH: dict[str, Any] = {
    "object": "customer",
    "address": None,
    "balance": 0,
    "currency": None,
    "default_source": None,
    "delinquent": False,
    "description": None,
    "discount": None,
    "email": None,
    "invoice_settings": {
        "custom_fields": None,
        "default_payment_method": None,
        "footer": None,
        "rendering_options": None,
    },
    "livemode": False,
    "metadata": {},
    "name": None,
    "next_invoice_sequence": 1,
    "phone": None,
    "preferred_locales": [],
    "shipping": None,
    "tax_exempt": "none",
    "test_clock": None,
}
_ABSENT = "_absent"
_MISSING = object()
# One encoder for every call (``json.dumps`` with options builds a new one each time).
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _same(value: Any, fresh: Any) -> bool:
    # type() too: 0 == False in Python, but `"balance":false` is not Stripe's 0.
    return type(value) is type(fresh) and value == fresh


def _tax_id_list(customer_id: str, data: list) -> dict[str, Any]:
    """The list object Stripe embeds as an expanded customer's ``tax_ids``."""
    return {
        "object": "list",
        "data": data,
        "has_more": False,
        "total_count": len(data),
        "url": f"/v1/customers/{customer_id}/tax_ids",
    }


def pack(obj: Mapping[str, Any]) -> str:
    """The stored text of a customer object (a plain dict, JSON-ready)."""
    kept = {k: v for k, v in obj.items() if not _same(v, FRESH.get(k, _MISSING))}
    tax_ids = kept.get("tax_ids")
    standard = (
        isinstance(tax_ids, dict)
        and isinstance(tax_ids.get("data"), list)
        and tax_ids == _tax_id_list(obj.get("id", ""), tax_ids["data"])
    )
    if standard:
        kept["tax_ids"] = tax_ids["data"]  # an array: unpack knows to rebuild it
    absent = [k for k in FRESH if k not in obj]
    if absent:
        kept[_ABSENT] = absent
    return _ENCODE(kept)


def unpack(text: str | None) -> dict[str, Any] | None:
    """The customer object stored by ``pack``, or None when nothing is stored yet."""
    if text is None:
        return None
    kept = json.loads(text)
    absent = set(kept.pop(_ABSENT, ()))
    full = {k: copy.deepcopy(v) for k, v in FRESH.items() if k not in absent}
    full.update(kept)
    if isinstance(full.get("tax_ids"), list):
        full["tax_ids"] = _tax_id_list(full.get("id", ""), full["tax_ids"])
    return full
