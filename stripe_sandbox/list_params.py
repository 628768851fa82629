"""The parameters of Stripe's list endpoints, checked as Stripe checks them: unknown
names, `limit` 1 to 100, one cursor at most, `created` as an integer or a range, and the
events list's own filters. Each refusal is a 400 naming the `param`."""

from __future__ import annotations

from typing import Any

from flask import request

from stripe_sandbox import errors
from stripe_sandbox.params import decode

CUSTOMER_LIST_PARAMS = {"limit", "starting_after", "ending_before", "created", "email", "expand"}
EVENT_LIST_PARAMS = {
    "limit",
    "starting_after",
    "ending_before",
    "created",
    "type",
    "types",
    "delivery_success",
    "expand",
}
RANGE_KEYS = ("gt", "gte", "lt", "lte")
MAX_TYPES = 20  # "An array of up to 20 strings containing specific event names"


def list_params(allowed: set[str]) -> dict[str, Any]:
    """The request's list parameters, validated (400 with `param` otherwise)."""
    params = decode(request.args.items(multi=True))
    for name in params:
        if name not in allowed:
            raise errors.unknown_param(name)
    raw_limit = params.get("limit", "10")
    try:
        limit = int(raw_limit)
    except (TypeError, ValueError):
        raise errors.bad_param("limit", f"Invalid integer: {raw_limit}") from None
    if not 1 <= limit <= 100:
        bound = "greater than or equal to 1" if limit < 1 else "less than or equal to 100"
        raise errors.bad_param("limit", f"This value must be {bound}.")
    params["limit"] = limit
    if params.get("starting_after") and params.get("ending_before"):
        raise errors.StripeError(
            400,
            "You may only specify one of these parameters: ending_before, starting_after.",
            param="starting_after",
        )
    if "created" in params:
        params["created"] = _created(params["created"])
    return params


def _created(created: Any) -> int | dict[str, int]:
    if isinstance(created, dict):
        for key in created:
            if key not in RANGE_KEYS:
                raise errors.unknown_param(f"created[{key}]")
        return {key: _integer(f"created[{key}]", value) for key, value in created.items()}
    return _integer("created", created)


def _integer(param: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.bad_param(param, f"Invalid integer: {value}") from None


def event_list_params() -> dict[str, Any]:
    """`GET /v1/events`'s parameters: `type` (a name or a `*` group) or `types` (up to
    20 names), never both; `delivery_success` a boolean."""
    params = list_params(EVENT_LIST_PARAMS)
    if "type" in params and "types" in params:
        raise errors.StripeError(
            400, "You may pass either `type` or `types`, but not both.", param="types"
        )
    if "type" in params and not isinstance(params["type"], str):
        raise errors.StripeError(400, "Invalid string: type", param="type")
    if "types" in params:
        types = params["types"]
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise errors.StripeError(400, "Invalid array", param="types")
        if len(types) > MAX_TYPES:
            raise errors.StripeError(
                400,
                f"Invalid array: types has {len(types)} elements; the maximum is {MAX_TYPES}.",
                param="types",
            )
    if "delivery_success" in params:
        value = params["delivery_success"]
        if value not in ("true", "false"):
            raise errors.StripeError(
                400,
                f"Invalid boolean: {value}",
                code="parameter_invalid_boolean",
                param="delivery_success",
            )
        params["delivery_success"] = value == "true"
    return params
