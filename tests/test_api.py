"""The JSON API's customer operations: listing with cursors, reading, creating and
editing customers, with their bad-input answers."""

from __future__ import annotations

import json

import pytest

from models import Business, Customer, User
from models.user import utcnow
from tests.api_support import (  # noqa: F401  (fixtures)
    API,
    api_fixture,
    assert_error,
    bearer,
    secret_fixture,
)
from tests.conftest import make_customer

# --- reading ----------------------------------------------------------------------


def test_customer_json_shape(api, business):
    synced = make_customer(
        business, stripe_customer_id="cus_1", customer_since=1_700_000_000, name="Syd"
    )
    body = api.get(f"/customers/{synced.id}").get_json()
    assert body == {
        "id": synced.id,
        "name": "Syd",
        "email": "ada@example.com",
        "stripe_customer_id": "cus_1",
        "stripeCustomerId": "cus_1",
        "synced": True,
        "deleted_in_stripe": False,
        "customer_since": "2023-11-14T22:13:20Z",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "stripe": None,  # not fetched yet
    }
    assert body["created_at"].endswith("Z")


def test_list_filters_by_sync_state_and_search(api, business):
    direct = make_customer(business, name="Dora Direct", email="dora@example.com")
    synced = make_customer(
        business, name="Sam Synced", email="sam@shop.test", stripe_customer_id="cus_s"
    )
    gone = make_customer(
        business,
        name="Gus Gone",
        email="gus@example.com",
        stripe_customer_id="cus_g",
        deleted_in_stripe_at=utcnow(),
    )

    def ids(query):
        response = api.get(f"/customers{query}")
        assert response.status_code == 200
        return {row["id"] for row in response.get_json()["data"]}

    assert ids("") == ids("?sync=all") == {direct.id, synced.id, gone.id}
    assert ids("?sync=synced") == {synced.id}
    assert ids("?sync=not_synced") == {direct.id}
    assert ids("?sync=deleted") == {gone.id}
    assert ids("?q=SHOP.TEST") == {synced.id}
    assert ids("?q=dora") == {direct.id}
    assert ids("?q=%25") == set()  # a LIKE wildcard is searched for literally


def test_cursor_pagination_walks_every_row_once_in_order(api, business):
    # Several rows share a customer_since second, so the id must break ties.
    made = [
        make_customer(business, email=f"c{i}@example.com", customer_since=1_700_000_000 + i // 3)
        for i in range(11)
    ]
    expected = [c.id for c in sorted(made, key=lambda c: (c.customer_since, c.id), reverse=True)]
    seen, cursor, pages = [], None, 0
    while True:
        query = "/customers?limit=4" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(query).get_json()
        pages += 1
        seen += [row["id"] for row in body["data"]]
        if not body["has_more"]:
            assert body["next_cursor"] is None
            break
        cursor = body["next_cursor"]
    assert seen == expected
    assert pages == 3


def test_cursor_is_stable_when_rows_are_added_at_the_top(api, business):
    for i in range(4):
        make_customer(business, email=f"c{i}@example.com", customer_since=1_700_000_000 + i)
    first = api.get("/customers?limit=2").get_json()
    make_customer(business, email="new@example.com", customer_since=1_800_000_000)
    second = api.get(f"/customers?limit=2&cursor={first['next_cursor']}").get_json()
    assert [row["email"] for row in second["data"]] == ["c1@example.com", "c0@example.com"]


def test_default_limit_is_50(api, business):
    Customer.insert_many(
        [
            {
                "business": business.id,
                "name": f"N{i}",
                "email": f"n{i}@example.com",
                "customer_since": 1_700_000_000 + i,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
            for i in range(51)
        ]
    ).execute()
    body = api.get("/customers").get_json()
    assert len(body["data"]) == 50 and body["has_more"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("sync=everything", "sync"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("limit=", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=WzEsMl0x", "cursor"),
    ],
)
def test_bad_list_parameters_are_400(api, query, field):
    error = assert_error(api.get(f"/customers?{query}"), 400, error_code(field), field)
    assert field in error["message"] or "cursor" in error["message"]


def test_unknown_query_parameters_are_400_after_authentication(api, client, business):
    row = make_customer(business)
    assert_error(api.get("/customers?synk=synced"), 400, "unknown_parameter", "synk")
    assert_error(api.get(f"/customers/{row.id}?expand=all"), 400, "unknown_parameter", "expand")
    assert_error(client.get(f"{API}/customers?synk=synced"), 401, "missing_token")


def error_code(field):
    return "invalid_cursor" if field == "cursor" else "invalid_parameter"


def test_other_business_rows_are_404(api, client, business):
    stranger = User.create_owner("other@example.com", "password123", "Other Co")
    theirs = make_customer(Business.primary_for(stranger), email="theirs@example.com")
    side = Business.get(Business.name == "Side Project")
    mine_elsewhere = make_customer(side, email="side@example.com")
    for row in (theirs, mine_elsewhere):
        assert_error(api.get(f"/customers/{row.id}"), 404, "not_found", "id")
        assert_error(api.patch(f"/customers/{row.id}", {"name": "Hacked"}), 404, "not_found", "id")
        assert Customer.get_by_id(row.id).name == "Ada Lovelace"
    assert api.get("/customers").get_json()["data"] == []


# --- creating ---------------------------------------------------------------------


def test_create_direct_customer(api, business):
    before = utcnow().replace(microsecond=0)
    response = api.post("/customers", {"name": "  Nia Direct ", "email": "nia@example.com"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "Nia Direct" and body["synced"] is False
    assert body["stripe_customer_id"] is None and body["deleted_in_stripe"] is False
    assert response.headers["Location"].endswith(f"{API}/customers/{body['id']}")
    row = Customer.get_by_id(body["id"])
    assert row.business_id == business.id and row.stripe_customer_id is None
    assert row.customer_since >= before
    assert api.get(f"/customers/{body['id']}").get_json() == body
    listed = api.get("/customers?sync=not_synced").get_json()["data"]
    assert [c["id"] for c in listed] == [body["id"]]


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"email": "x@example.com"}, "name", "Enter a name."),
        ({"name": "   ", "email": "x@example.com"}, "name", "Enter a name."),
        ({"name": "X" * 257, "email": "x@example.com"}, "name", "Use at most 256 characters."),
        ({"name": "X"}, "email", "Enter an email address."),
        (
            {"name": "X", "email": "not-an-email"},
            "email",
            "Enter an email address like name@example.com.",
        ),
    ],
)
def test_create_validation_is_422_naming_the_field(api, body, field, message):
    error = assert_error(api.post("/customers", body), 422, "validation_error", field)
    assert error["message"] == message
    assert Customer.select().count() == 0


@pytest.mark.parametrize(
    "body, code, field",
    [
        ([], "invalid_body", None),
        ("a string", "invalid_body", None),
        ({"name": "X", "email": "x@example.com", "phone": "1"}, "unknown_parameter", "phone"),
        ({"name": 5, "email": "x@example.com"}, "invalid_parameter", "name"),
        ({"name": "X", "email": None}, "invalid_parameter", "email"),
    ],
)
def test_create_bad_parameters_are_400(api, body, code, field):
    assert_error(api.post("/customers", body), 400, code, field)


def test_malformed_json_is_400(client, secret):
    response = client.post(
        f"{API}/customers",
        data="{not json",
        content_type="application/json",
        headers=bearer(secret),
    )
    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_non_json_body_is_415(client, secret, content_type):
    kwargs = {"data": "name=X&email=x@example.com"}
    if content_type:
        kwargs["content_type"] = content_type
    response = client.post(f"{API}/customers", headers=bearer(secret), **kwargs)
    assert_error(response, 415, "unsupported_media_type")


def test_body_over_64_kib_is_413(client, secret):
    body = json.dumps({"name": "X" * 70_000, "email": "x@example.com"})
    response = client.post(
        f"{API}/customers", data=body, content_type="application/json", headers=bearer(secret)
    )
    assert_error(response, 413, "request_entity_too_large")
    assert Customer.select().count() == 0


def test_duplicate_email_any_case_is_409_naming_the_existing_row(api, business):
    existing = make_customer(business, email="Ada@Example.com", stripe_customer_id="cus_a")
    response = api.post("/customers", {"name": "Ada Again", "email": "ada@EXAMPLE.com"})
    error = assert_error(response, 409, "email_taken", "email")
    assert error["customer_id"] == existing.id
    assert str(existing.id) in error["message"]
    assert Customer.select().count() == 1


def test_same_email_in_another_business_is_fine(api, owner):
    make_customer(Business.get(Business.name == "Side Project"), email="shared@example.com")
    assert api.post("/customers", {"name": "S", "email": "shared@example.com"}).status_code == 201


# --- editing ----------------------------------------------------------------------


def test_patch_direct_customer(api, business):
    row = make_customer(business)
    response = api.patch(f"/customers/{row.id}", {"email": "ada@new.example"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["email"] == "ada@new.example" and body["name"] == "Ada Lovelace"
    assert "warning" not in body
    assert Customer.get_by_id(row.id).email == "ada@new.example"


def test_patch_synced_customer_warns_and_keeps_stripe_version(api, business):
    row = make_customer(
        business,
        stripe_customer_id="cus_1",
        stripe_version_at=1_700_000_100,
        stripe_version_source=1,
    )
    response = api.patch(f"/customers/{row.id}", {"name": "Local Name"})
    body = response.get_json()
    assert response.status_code == 200
    assert body["name"] == "Local Name"
    assert "overwrites" in body["warning"] and "Stripe" in body["warning"]
    stored = Customer.get_by_id(row.id)
    assert (stored.name, stored.stripe_customer_id) == ("Local Name", "cus_1")
    assert (stored.stripe_version_at, stored.stripe_version_source) == (1_700_000_100, 1)


def test_patch_keeps_a_missing_stripe_name_when_only_email_changes(api, business):
    row = make_customer(business, name=None, stripe_customer_id="cus_n")
    response = api.patch(f"/customers/{row.id}", {"email": "n@example.com"})
    assert response.status_code == 200
    assert response.get_json()["name"] is None


@pytest.mark.parametrize(
    "body, status, code, field",
    [
        ({}, 400, "invalid_body", None),
        ({"name": ""}, 422, "validation_error", "name"),
        ({"email": "nope"}, 422, "validation_error", "email"),
        ({"stripe_customer_id": "cus_x"}, 400, "unknown_parameter", "stripe_customer_id"),
        ({"name": ["x"]}, 400, "invalid_parameter", "name"),
    ],
)
def test_patch_bad_input(api, business, body, status, code, field):
    row = make_customer(business)
    assert_error(api.patch(f"/customers/{row.id}", body), status, code, field)
    assert Customer.get_by_id(row.id).name == "Ada Lovelace"


def test_patch_to_another_customers_email_is_409(api, business):
    first = make_customer(business, email="first@example.com")
    second = make_customer(business, email="second@example.com")
    error = assert_error(
        api.patch(f"/customers/{second.id}", {"email": "FIRST@example.com"}),
        409,
        "email_taken",
        "email",
    )
    assert error["customer_id"] == first.id
    # Changing the case of one's own email is not a conflict.
    assert api.patch(f"/customers/{first.id}", {"email": "First@Example.com"}).status_code == 200


def test_patch_needs_json(client, secret, business):
    row = make_customer(business)
    response = client.patch(f"{API}/customers/{row.id}", data="name=x", headers=bearer(secret))
    assert_error(response, 415, "unsupported_media_type")
