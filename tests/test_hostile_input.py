"""Input that must never give a 500 or spoof a page (issue 10, items 12, 13, 19):
ids, page numbers and cursors past 64 bits, NUL in a search, CR/LF and other tricks in
``next``, API cursors out of range, lone surrogates in typed names, and bidi controls
in Stripe text."""

from __future__ import annotations

import base64
import json

import pytest

from models import Customer
from models.api_errors import ApiError
from models.customer_api import create_customer
from models.import_run import ImportRun
from tests.api_support import (  # noqa: F401  (fixtures)
    API,
    api_fixture,
    assert_error,
    bearer,
    secret_fixture,
)
from tests.conftest import make_customer
from tests.test_security import RULES

HUGE = "99999999999999999999"  # 20 digits: more than SQLite's 64-bit integers


def _int_rules():
    rules = []
    for rule in RULES:
        if rule.arguments and rule.endpoint != "static":
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                path = rule.rule
                for name in rule.arguments:
                    path = path.replace(f"<int:{name}>", HUGE)
                rules.append(pytest.param(method, path, id=f"{method} {rule.rule}"))
    return rules


@pytest.mark.parametrize(("method", "path"), _int_rules())
def test_an_id_past_64_bits_names_no_row(client, logged_in, secret, method, path):
    headers = {"X-CSRFToken": logged_in, **(bearer(secret) if path.startswith(API) else {})}
    response = client.open(path, method=method, headers=headers, json={"name": "x"})
    assert response.status_code == 404, (method, path)


@pytest.mark.parametrize(
    "query",
    [
        {"page": HUGE},
        {"page": str(2**62)},
        {"after": f"{HUGE}.1"},
        {"after": f"1.{HUGE}"},
        {"before": f"1.{HUGE}"},
        {"before": f"-{HUGE}.1"},
    ],
    ids=["page 20 digits", "page 2**62", "after since", "after id", "before id", "before -since"],
)
def test_list_positions_past_64_bits_are_refused_clearly(client, logged_in, business, query):
    """Back to the list with a note (issue 11: a bad URL is not an error page)."""
    make_customer(business)
    response = client.get("/customers", query_string=query)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/customers")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "so the list starts again" in page


def test_a_page_past_the_end_is_an_empty_page(client, logged_in, business):
    make_customer(business)
    response = client.get("/customers", query_string={"page": "1000000"})
    assert response.status_code == 200
    assert "on page 1000000" in response.get_data(as_text=True)


def test_a_huge_live_marker_is_just_a_change(client, logged_in):
    assert client.get("/customers/changes", query_string={"since": HUGE}).status_code == 200


# A NUL is refused before any search (tests/test_nul_input.py); other control
# characters are dropped from the search.
@pytest.mark.parametrize("q", ["a\x07b", "\x01", "ada\x1f", '"\x01"', "\x01\x02", "NEAR(a b)"])
def test_a_search_with_control_characters_is_a_search(client, logged_in, business, q):
    make_customer(business, name="Ada Lovelace")
    response = client.get("/customers", query_string={"q": q})
    assert response.status_code == 200


def test_a_control_character_between_letters_searches_for_the_letters(client, logged_in, business):
    make_customer(business, name="Ada Lovelace")
    page = client.get("/customers", query_string={"q": "Love\x01lace"}).get_data(as_text=True)
    assert "Lovelace" in page and "No customers match" not in page


@pytest.mark.parametrize(
    "target",
    [
        "/customers\r\nSet-Cookie: evil=1",
        "/customers\nLocation: https://evil.test",
        "/\\evil.test",
        "/\\/evil.test",
        "/\t/evil.test",
        "//evil.test",
        "https://evil.test/",
        "/customers\u202e",
    ],
    ids=[
        "CRLF",
        "LF",
        "backslash",
        "backslash slash",
        "tab",
        "scheme-relative",
        "absolute",
        "bidi",
    ],
)
def test_login_next_never_leaves_the_site_or_splits_headers(client, auth, owner, target):
    token = auth.csrf_token()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={
            "email": "owner@example.com",
            "password": "correct horse battery",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/customers"
    assert "evil" not in str(response.headers)


def test_login_next_keeps_a_plain_path(client, auth, owner):
    response = client.post(
        "/login",
        query_string={"next": "/customers?q=ada&page=2"},
        data={
            "email": "owner@example.com",
            "password": "correct horse battery",
            "csrf_token": auth.csrf_token(),
        },
    )
    assert response.headers["Location"] == "/customers?q=ada&page=2"


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    ["[1e20,1]", "[100000000000000000000,1]", "[1,100000000000000000000]", "[1,-1]", "[1.5,1]"],
    ids=["1e20", "since 10**20", "id 10**20", "negative id", "float"],
)
def test_api_cursor_out_of_range_is_a_400(api, business, raw):
    make_customer(business)
    assert_error(
        api.get("/customers", query_string={"cursor": _cursor(raw)}),
        400,
        "invalid_cursor",
        "cursor",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"name": "\ud800", "email": "a@example.com"},
        {"name": "Ada", "email": "a\udfff@example.com"},
        {"name": "Ada\x00", "email": "a@example.com"},
    ],
    ids=["lone surrogate name", "lone surrogate email", "NUL name"],
)
def test_api_refuses_unstorable_text(api, business, body):
    field = next(key for key, value in body.items() if not value.isprintable())
    assert_error(api.post("/customers", body), 422, "validation_error", field)
    customer = make_customer(business)
    assert_error(api.patch(f"/customers/{customer.id}", body), 422, "validation_error", field)
    assert Customer.select().count() == 1


def test_mcp_create_refuses_a_lone_surrogate(business):
    """The MCP tool calls this function with the tool's arguments."""
    with pytest.raises(ApiError) as refused:
        create_customer(business.id, {"name": "\ud800", "email": "a@example.com"})
    assert refused.value.status == 422
    assert Customer.select().count() == 0


def test_dashboard_edit_refuses_control_characters(client, logged_in, business):
    customer = make_customer(business)
    response = client.post(
        f"/customers/{customer.id}",
        data={"name": "Ada\x07", "email": "ada@example.com", "csrf_token": logged_in},
    )
    assert response.status_code == 400
    assert "control or invalid characters" in response.get_data(as_text=True)
    assert Customer.get_by_id(customer.id).name == "Ada Lovelace"


SPOOF = "\u202emoc.live@nimda"


def test_bidi_controls_in_stripe_text_are_isolated_and_removed(client, logged_in, business):
    make_customer(
        business, name="\u202eCorp\u2066 \u200fX", email=SPOOF, stripe_customer_id="cus_1"
    )
    page = client.get("/customers").get_data(as_text=True)
    assert "<bdi>moc.live@nimda</bdi>" in page
    assert "<bdi>Corp X</bdi>" in page
    for control in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f":
        assert control not in page


def test_bidi_controls_are_removed_from_the_edit_page_title(client, logged_in, business):
    customer = make_customer(business, name="\u202eevil")
    page = client.get(f"/customers/{customer.id}/edit").get_data(as_text=True)
    assert "<title>Edit evil" in page


def test_an_import_skip_reason_is_isolated(client, logged_in, business):
    run = ImportRun.create(
        business=business, status="succeeded", skipped=1, skipped_reason=f"{SPOOF}: bad"
    )
    page = client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert "<bdi>moc.live@nimda: bad</bdi>" in page


def test_the_json_api_keeps_stripe_text_as_stored(api, business):
    """Only pages neutralise bidi controls: the API returns data, not display."""
    make_customer(business, email=SPOOF)
    assert json.loads(api.get("/customers").get_data())["data"][0]["email"] == SPOOF
