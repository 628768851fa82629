"""Schemathesis drives every operation of /api/v1 from its OpenAPI document,
against the live app over HTTP, with a valid token: no 5xx, every answer documented
and matching its schema, bad input rejected, good input accepted.

The document is built at import (schemathesis's lazy fixture loader does not run
under this pytest), and the test checks that the app serves that same document.
Each operation is its own test id (``GET /customers``…): ``schema.parametrize()``
gave all of them one id, which pytest-xdist ran and counted as one.
"""

from __future__ import annotations

import random
import re
import uuid

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from models.customer_api import encode_cursor
from models.idempotency import KEY_PATTERN
from models.stripe_object import pack
from models.user import utcnow
from stripe_sandbox import objects, tax_ids
from stripe_sandbox.fake_details import add_details
from tests.api_support import (  # noqa: F401  (fixtures)
    bearer,
    secret_fixture,
)
from tests.conftest import make_customer
from views.api_schema import openapi_document

MAX_EXAMPLES = 40
PLACEHOLDER = "http://127.0.0.1/api/v1"

schema = schemathesis.openapi.from_dict(openapi_document(PLACEHOLDER))


@schema.hook
def map_query(context, query):
    """A cursor is only valid when a previous page gave it out, which no schema can
    say: turn each generated string into a well-formed cursor for some position."""
    cursor = query.get("cursor") if isinstance(query, dict) else None
    if isinstance(cursor, str):
        query["cursor"] = encode_cursor(1_700_000_000 + len(cursor), sum(map(ord, cursor)))
    return query


@schema.hook
def filter_query(context, query):
    """requests leaves out a parameter whose value is None or an empty list, so such a
    case would be judged on a parameter the API never received."""
    return not isinstance(query, dict) or all(value not in (None, []) for value in query.values())


@schema.hook
def map_headers(context, headers):
    """Examples are independent requests, but generated Idempotency-Keys repeat
    (``0``…), and a key reused with another body is rightly refused: make each key
    unique to its example. Replays are tested in test_api_idempotency.py."""
    key = headers.get("Idempotency-Key") if isinstance(headers, dict) else None
    if isinstance(key, str) and re.fullmatch(KEY_PATTERN, key):
        headers["Idempotency-Key"] = f"{key[:200]}-{uuid.uuid4().hex}"
    return headers


@pytest.fixture
def api_base(live_server, business) -> str:
    """The live API's base URL, after checking it serves the document under test,
    with rows of each kind so lists and reads find data."""
    make_customer(business, email="direct@example.com")
    full = objects.customer("cus_1", 1_700_000_000, email="synced@example.com")
    full["tax_ids"] = tax_ids.as_list("cus_1", [tax_ids.tax_id("cus_1", "eu_vat", "DE123456789")])
    add_details(full, random.Random(7).random)
    make_customer(
        business,
        email="synced@example.com",
        stripe_customer_id="cus_1",
        stripe_object=pack(full),
    )
    make_customer(
        business,
        email="gone@example.com",
        stripe_customer_id="cus_2",
        deleted_in_stripe_at=utcnow(),
    )
    base = f"{live_server.url}/api/v1"
    served = requests.get(f"{base}/openapi.json", timeout=10).json()
    assert served == openapi_document(base)
    return base


OPERATIONS = [result.ok() for result in schema.get_all_operations()]


def test_every_operation_of_the_document_is_tested():
    labels = {operation.label for operation in OPERATIONS}
    paths = openapi_document(PLACEHOLDER)["paths"]
    methods = {"get", "put", "post", "patch", "delete"}
    expected = {
        f"{method.upper()} {path}"
        for path, item in paths.items()
        for method in item.keys() & methods
    }
    assert labels == expected and len(labels) >= 4


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_api_matches_its_openapi_document(operation, api_base, secret):
    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        # The same examples every run: a failure here is a change, never a dice roll.
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def check(case):
        case.call_and_validate(base_url=api_base, headers=bearer(secret))

    check()
