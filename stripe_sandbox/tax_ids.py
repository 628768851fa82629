"""Customer tax ids: Stripe's `tax_id` objects, the list a customer embeds when asked
to expand `tax_ids`, and the checks Stripe makes on `type` and `value`."""

from __future__ import annotations

import re
import time
from typing import Any

from stripe_sandbox import errors, objects

# A few of Stripe's tax id types, with the country each implies and the shape of a
# value (Stripe checks formats per type; these are simplified but of the same kind).
TYPES: dict[str, tuple[str | None, str]] = {
    "eu_vat": (None, r"[A-Z]{2}[0-9A-Z]{8,12}"),
    "gb_vat": ("GB", r"GB[0-9]{9}"),
    "us_ein": ("US", r"[0-9]{2}-[0-9]{7}"),
    "ca_bn": ("CA", r"[0-9]{9}"),
    "au_abn": ("AU", r"[0-9]{11}"),
    "ch_vat": ("CH", r"CHE-[0-9]{3}\.[0-9]{3}\.[0-9]{3} (MWST|TVA|IVA)"),
    "no_vat": ("NO", r"[0-9]{9}MVA"),
    "jp_cn": ("JP", r"[0-9]{13}"),
    "in_gst": ("IN", r"[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][0-9A-Z]Z[0-9A-Z]"),
}
# Greece's VAT numbers start with EL, not its ISO code GR.
_EU_PREFIX = {"EL": "GR"}


def check(params: dict[str, Any]) -> tuple[str, str]:
    """The (type, value) of a tax id to create, or Stripe's 400 for a bad one."""
    for name in params:
        if name not in ("type", "value", "expand"):
            raise errors.unknown_param(name)
    kind, value = params.get("type"), params.get("value")
    if not kind:
        raise errors.StripeError(400, "Missing required param: type.", param="type")
    if not value:
        raise errors.StripeError(400, "Missing required param: value.", param="value")
    if kind not in TYPES:
        raise errors.StripeError(
            400, f"Invalid value for type: must be one of {', '.join(TYPES)}.", param="type"
        )
    if not re.fullmatch(TYPES[kind][1], value):
        raise errors.StripeError(
            400,
            f"Invalid value for {kind}.",
            code="tax_id_invalid",
            param="value",
        )
    return kind, value


def tax_id(customer_id: str, kind: str, value: str, *, created: int | None = None) -> dict:
    """A `tax_id` object of a customer, as Stripe returns it (verification pending
    for the types Stripe verifies, unavailable for the others)."""
    country = TYPES[kind][0] or _EU_PREFIX.get(value[:2], value[:2])
    verified = kind in ("eu_vat", "gb_vat", "au_abn")
    return {
        "id": objects.new_id("txi_"),
        "object": "tax_id",
        "country": country,
        "created": created or int(time.time()),
        "customer": customer_id,
        "customer_account": None,
        "livemode": False,
        "owner": {"customer": customer_id, "type": "customer"},
        "type": kind,
        "value": value,
        "verification": {
            "status": "pending" if verified else "unavailable",
            "verified_address": None,
            "verified_name": None,
        },
    }


def as_list(customer_id: str, ids: list[dict]) -> dict:
    """The list object a customer embeds under `tax_ids` when they are expanded."""
    return {
        "object": "list",
        "data": ids,
        "has_more": False,
        "total_count": len(ids),
        "url": f"/v1/customers/{customer_id}/tax_ids",
    }


def expanded(raw: bytes, customer_id: str, ids: list[dict]) -> bytes:
    """A customer's cached JSON with `tax_ids` spliced in, without re-encoding it."""
    return raw[:-1] + b',"tax_ids":' + objects.dumps(as_list(customer_id, ids)) + b"}"


def expansions(params: dict[str, Any], allowed: str) -> bool:
    """Whether `expand` asks for the tax ids (`allowed` is `tax_ids` on a customer,
    `data.tax_ids` on a list); any other expansion is refused as Stripe does."""
    asked = params.get("expand") or []
    if isinstance(asked, str):
        asked = [asked]
    if not isinstance(asked, list):
        raise errors.StripeError(400, "Invalid array", param="expand")
    for path in asked:
        if path != allowed:
            raise errors.StripeError(
                400, f"This property cannot be expanded ({path}).", param="expand"
            )
    return allowed in asked
