"""The OpenAPI schema of the `stripe` member of a customer: Stripe's customer object,
its main fields documented, any other field Stripe adds allowed."""

from __future__ import annotations

_STRIPE_DESCRIPTION = (
    "Stripe's full customer object, as Stripe last sent it (field names and shapes are "
    "Stripe's: https://docs.stripe.com/api/customers/object), with `tax_ids` expanded "
    "when they were fetched (the import and re-fetches expand them; webhook events do "
    "not carry them, so the last fetched tax ids are kept). A customer deleted in Stripe "
    "keeps the last object Stripe sent. `null` for customers created directly in "
    "ShingleAI, and for synced customers whose object has not been fetched yet: it "
    "arrives with their next change in Stripe, the next import or a reconnect. Always "
    "present on single-customer answers; in lists only with `expand=stripe`."
)


def stripe_customer_schema() -> dict:
    """The `stripe` member of a Customer: Stripe's object, its main fields spelled out."""
    text = {"type": ["string", "null"]}
    address = {
        "type": ["object", "null"],
        "properties": {
            key: text for key in ("city", "country", "line1", "line2", "postal_code", "state")
        },
    }
    tax_id = {
        "type": "object",
        "required": ["id", "object", "type", "value"],
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "tax_id"},
            "country": text,
            "type": {"type": "string", "description": "Such as `eu_vat`, `gb_vat`, `us_ein`."},
            "value": {"type": "string"},
            "verification": {"type": ["object", "null"]},
        },
    }
    return {
        "type": ["object", "null"],
        "description": _STRIPE_DESCRIPTION,
        "properties": {
            "id": {"type": "string", "description": "`cus_…`"},
            "object": {"const": "customer"},
            "created": {"type": "integer", "description": "Unix seconds."},
            "livemode": {"type": "boolean"},
            "name": text,
            "email": text,
            "phone": text,
            "description": text,
            "address": {**address, "description": "The billing address."},
            "shipping": {
                "type": ["object", "null"],
                "properties": {"name": text, "phone": text, "address": address},
            },
            "currency": {**text, "description": "Three-letter ISO code, lowercase."},
            "balance": {
                "type": "integer",
                "description": "In the currency's minor unit; negative is credit.",
            },
            "tax_exempt": {"type": "string", "description": "`none`, `exempt` or `reverse`."},
            "preferred_locales": {"type": "array", "items": {"type": "string"}},
            "invoice_prefix": text,
            "invoice_settings": {"type": ["object", "null"]},
            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
            "tax_ids": {
                "type": "object",
                "description": "Present once fetched expanded.",
                "properties": {
                    "object": {"const": "list"},
                    "data": {"type": "array", "items": tax_id},
                },
            },
        },
        "additionalProperties": True,
    }
