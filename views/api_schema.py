"""The OpenAPI 3.1 document of /api/v1, built from small pieces so each error and
schema is written once. Limits come from the models, so the document and the
checks cannot drift apart."""

from __future__ import annotations

from models.api_token import TOKEN_PREFIX
from models.customer import EMAIL_MAX, NAME_MAX, SYNC_FILTERS
from models.customer_api import CUSTOMER_FIELDS, LIMIT_DEFAULT, LIMIT_MAX, SYNCED_EDIT_WARNING
from models.idempotency import KEY_MAX, KEY_PATTERN
from views.api_schema_stripe import stripe_customer_schema

_ERRORS = {
    400: "Malformed JSON, an unknown or mistyped parameter, a bad cursor, or an "
    "Idempotency-Key reused with different parameters (code `idempotency_error`).",
    401: "No token, an unknown token, or a revoked one. Comes with `WWW-Authenticate: Bearer`.",
    403: "The token may not do this: it is read only (`read_only_token`), or its business "
    "is no longer its owner's primary business (`business_not_primary`).",
    404: "No such customer in this token's business.",
    409: "Another customer of the business already has this email address (any case); "
    "`customer_id` names it.",
    413: "The body is larger than 64 KiB.",
    415: "The body is not sent as `application/json`.",
    422: "A name or email that is not acceptable; `field` says which.",
}
# Names and emails are trimmed (str.strip) before they are checked, hence the
# patterns. They spell out Python's whitespace rather than use \s, whose meaning
# differs between regex engines (ECMA's includes U+FEFF, Python's \x1c-\x1f).
_WS = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Control characters (Unicode category Cc, NUL included: Postgres text cannot hold one)
# are refused inside a name or email.
_CC = r"\x00-\x1f\x7f-\x9f"
_EMAIL_PART = rf"[^@{_WS}{_CC}]+"
_NAME = {
    "type": "string",
    "pattern": rf"^[{_WS}]*[^{_WS}{_CC}](?:[^{_CC}]*[^{_WS}{_CC}])?[{_WS}]*$",
    "description": f"Required, at most {NAME_MAX} characters once trimmed, no control characters.",
}
_EMAIL = {
    "type": "string",
    "pattern": rf"^[{_WS}]*{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}[{_WS}]*$",
    "description": f"Like name@example.com, at most {EMAIL_MAX} characters once trimmed; "
    "unique within the business, ignoring case.",
}


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _responses(success: dict, *errors: int) -> dict:
    responses = dict(success)
    for status in (401, 403, *errors):
        responses[str(status)] = _ref("responses", f"E{status}")
    return responses


def _body(schema: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref("schemas", schema)}}}


def _operation(summary: str, operation_id: str, responses: dict, **more) -> dict:
    return {"summary": summary, "operationId": operation_id, "responses": responses, **more}


def _schemas() -> dict:
    nullable_time = {"type": "string", "format": "date-time"}
    return {
        "Customer": {
            "type": "object",
            "required": list(CUSTOMER_FIELDS),
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": ["string", "null"]},
                "email": {"type": ["string", "null"]},
                "stripe_customer_id": {
                    "type": ["string", "null"],
                    "description": "Set for customers synced from Stripe; null for direct ones.",
                },
                "stripeCustomerId": {
                    "type": ["string", "null"],
                    "description": "The same value as `stripe_customer_id`, under the name "
                    "the help page uses: a synced customer has a populated stripeCustomerId.",
                },
                "stripe": stripe_customer_schema(),
                "synced": {"type": "boolean"},
                "deleted_in_stripe": {"type": "boolean"},
                "customer_since": {**nullable_time, "description": "UTC, ISO 8601."},
                "created_at": nullable_time,
                "updated_at": nullable_time,
                "warning": {"type": "string", "description": "Only on edits of synced rows."},
            },
            "additionalProperties": False,
        },
        "CustomerList": {
            "type": "object",
            "required": ["data", "has_more", "next_cursor"],
            "properties": {
                "data": {"type": "array", "items": _ref("schemas", "Customer")},
                "has_more": {"type": "boolean"},
                "next_cursor": {"type": ["string", "null"]},
            },
            "additionalProperties": False,
        },
        "CustomerCreate": {
            "type": "object",
            "required": ["name", "email"],
            "properties": {"name": _NAME, "email": _EMAIL},
            "additionalProperties": False,
        },
        "CustomerUpdate": {
            "type": "object",
            "minProperties": 1,
            "properties": {"name": _NAME, "email": _EMAIL},
            "additionalProperties": False,
        },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "field"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "field": {"type": ["string", "null"]},
                        "customer_id": {"type": "integer"},
                    },
                }
            },
        },
    }


def _parameters() -> dict:
    return {
        "CustomerId": {
            "name": "customer_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        },
        "IdempotencyKey": {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Retries with the same key get the first answer back (with "
            "`Idempotent-Replayed: true`) and never create a second customer. Kept 24 h per "
            "business; reusing a key with other parameters answers 400 `idempotency_error`.",
            "schema": {"type": "string", "maxLength": KEY_MAX, "pattern": KEY_PATTERN},
        },
    }


def _list_parameters() -> list[dict]:
    return [
        {
            "name": "sync",
            "in": "query",
            "schema": {"type": "string", "enum": list(SYNC_FILTERS), "default": "all"},
            "description": "`synced` leaves out rows deleted in Stripe; `deleted` lists only "
            "those.",
        },
        {
            "name": "q",
            "in": "query",
            "schema": {"type": "string", "pattern": r"^[^\x00]*$"},
            "description": "Name or email.",
        },
        {
            "name": "expand",
            "in": "query",
            "schema": {"type": "string", "enum": ["stripe"]},
            "description": "`stripe` adds each customer's full Stripe object (`stripe`); "
            "without it lists stay lean.",
        },
        {
            "name": "cursor",
            "in": "query",
            "schema": {"type": "string"},
            "description": "The `next_cursor` of the previous page; anything else answers 400.",
        },
        {
            "name": "limit",
            "in": "query",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": LIMIT_MAX,
                "default": LIMIT_DEFAULT,
            },
        },
    ]


def openapi_document(server_url: str) -> dict:
    """The whole document, with ``server_url`` (…/api/v1) as its only server."""
    customer = _json(_ref("schemas", "Customer"), "The customer.")
    created = {
        **_json(_ref("schemas", "Customer"), "The new customer, or the first answer replayed."),
        "headers": {
            "Location": {"schema": {"type": "string"}, "description": "The customer's URL."},
            "Idempotent-Replayed": {
                "schema": {"type": "string", "enum": ["true"]},
                "description": "Present when this is the replayed answer of an earlier request.",
            },
        },
    }
    edited = _json(_ref("schemas", "Customer"), f"The customer. {SYNCED_EDIT_WARNING}")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ShingleAI Customers API",
            "version": "1.0.0",
            "description": "Customers of the token's business. Rows created here are "
            "not synced: nothing is sent to Stripe, which stays authoritative for synced rows. "
            f"Tokens start with `{TOKEN_PREFIX}` and are made on the API tokens settings page.",
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/customers": {
                "get": _operation(
                    "List customers, newest Customer since first",
                    "listCustomers",
                    _responses({"200": _json(_ref("schemas", "CustomerList"), "A page.")}, 400),
                    parameters=_list_parameters(),
                ),
                "post": _operation(
                    "Create a customer directly in ShingleAI (not synced)",
                    "createCustomer",
                    _responses({"201": created}, 400, 409, 413, 415, 422),
                    parameters=[_ref("parameters", "IdempotencyKey")],
                    requestBody=_body("CustomerCreate"),
                ),
            },
            "/customers/{customer_id}": {
                "parameters": [_ref("parameters", "CustomerId")],
                "get": _operation(
                    "Get one customer", "getCustomer", _responses({"200": customer}, 404)
                ),
                "patch": _operation(
                    "Edit a customer's name and/or email in ShingleAI",
                    "updateCustomer",
                    _responses({"200": edited}, 400, 404, 409, 413, 415, 422),
                    requestBody=_body("CustomerUpdate"),
                ),
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "API token"}
            },
            "schemas": _schemas(),
            "parameters": _parameters(),
            "responses": {
                f"E{status}": _json(_ref("schemas", "Error"), text)
                for status, text in _ERRORS.items()
            },
        },
    }
