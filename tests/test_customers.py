"""The Customers list over HTTP: page or fragment, filters, search, pages, inline edit,
the live poll, and isolation from other businesses."""

from __future__ import annotations

import pytest

from models.business import Business
from models.customer import Customer
from models.customer_list import change_marker, search_backend
from models.db import db
from models.user import User
from tests.conftest import make_customer
from tests.customer_states import one_of_each_state

HX = {"HX-Request": "true"}


@pytest.fixture
def rows(business):
    return one_of_each_state(business)


@pytest.fixture
def others(owner):
    """Rows of the owner's second business and of another owner's primary one."""
    side = Business.get((Business.owner == owner) & ~Business.is_primary)
    stranger = User.create_owner("other@example.com", "another password", "Other Co")
    return [
        make_customer(side, name="Side Secret", email="side@example.com"),
        make_customer(Business.primary_for(stranger), name="Stranger Secret"),
    ]


def test_full_page_with_columns_badges_and_count(client, logged_in, rows):
    response = client.get("/customers")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html and "HX-Request" in response.vary
    assert 'id="customers-count">1\u20133 of 3</p>' in html
    assert 'class="badge badge-stripe" title="cus_S1">Stripe<' in html
    assert 'title="cus_G1">Deleted in Stripe<' in html
    assert (
        '<time datetime="2023-11-14T22:18:20Z" title="2023-11-14 22:18:20 UTC">Nov 14, 2023</time>'
        in html
    )
    direct_row = html.split(f'id="customer-{rows["direct"].id}"')[1].split("</tr>")[0]
    assert 'class="badge badge-local"' in direct_row and ">Not synced<" in direct_row


def test_htmx_request_gets_the_fragment_but_boosted_and_history_get_the_page(
    client, logged_in, rows
):
    fragment = client.get("/customers?sync=synced", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and "Sam Synced" in fragment and "Dora" not in fragment
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        assert "<html" in client.get("/customers", headers=HX | extra).get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("sync=synced", ["Sam Synced"]),
        ("sync=not_synced", ["Dora Direct"]),
        ("sync=deleted", ["Gus Gone"]),
        ("q=DORA", ["Dora Direct"]),
        ("q=example.com&sync=synced", ["Sam Synced"]),
        ("q=us", ["Gus Gone"]),
    ],
)
def test_filter_and_search(client, logged_in, rows, query, names):
    html = client.get(f"/customers?{query}", headers=HX).get_data(as_text=True)
    shown = [c.name for c in rows.values() if c.name in html]
    assert shown == names


@pytest.mark.parametrize(
    ("query", "note", "kept"),
    [
        ("sync=everything&q=ada", "There is no “everything” filter", "/customers?q=ada"),
        ("after=nonsense&sync=synced", "That page link is out of date", "/customers?sync=synced"),
        ("before=1.x", "That page link is out of date", "/customers"),
    ],
    ids=["filter", "after", "before"],
)
def test_bad_list_parameters_return_to_the_list_with_a_note(client, logged_in, query, note, kept):
    response = client.get(f"/customers?{query}")
    assert response.status_code == 302 and response.location == kept
    assert note in client.get(response.location).get_data(as_text=True)


def test_a_bad_list_parameter_from_htmx_loads_the_whole_list(client, logged_in):
    response = client.get("/customers?sync=bogus", headers=HX)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/customers"


def test_empty_states(client, logged_in, business):
    html = client.get("/customers").get_data(as_text=True)
    assert "No customers yet" in html
    make_customer(business, name="Only One")
    html = client.get("/customers?q=zzzz&sync=synced", headers=HX).get_data(as_text=True)
    assert "No customers match" in html and "Clear search and filter" in html
    assert "zzzz" in html


def test_pages_link_with_cursors(client, logged_in, business):
    for i in range(60):
        make_customer(business, name=f"Person {i:02d}", customer_since=1_700_000_000 + i)
    html = client.get("/customers").get_data(as_text=True)
    assert "Person 59" in html and "Person 09" not in html
    next_href = html.split('id="page-next" rel="next" href="')[1].split('"')[0]
    page_two = client.get(next_href.replace("&amp;", "&")).get_data(as_text=True)
    assert "Person 09" in page_two and "Person 10" not in page_two
    assert 'id="customers-count">51\u201360 of 60</p>' in page_two
    assert 'id="page-prev"' in page_two and 'id="page-next"' not in page_two


def test_edit_form_says_stripe_overwrites_for_synced_rows_only(client, logged_in, rows):
    synced = client.get(f"/customers/{rows['synced'].id}/edit", headers=HX).get_data(True)
    direct = client.get(f"/customers/{rows['direct'].id}/edit", headers=HX).get_data(True)
    assert "next change to this customer overwrites it" in synced
    assert "overwrites" not in direct and 'name="csrf_token"' in direct
    assert "<html" in client.get(f"/customers/{rows['direct'].id}/edit").get_data(True)


def _htmx_save(client, token, customer, name, email):
    """The inline edit's Save, as htmx sends it."""
    return client.post(
        f"/customers/{customer.id}",
        data={"name": name, "email": email},
        headers=HX | {"X-CSRFToken": token},
    )


def test_valid_edit_saves_and_keeps_the_stripe_version(client, logged_in, rows):
    customer = rows["synced"]
    response = _htmx_save(client, logged_in, customer, "  Samuel  ", "samuel@example.com")
    assert response.status_code == 200 and "Samuel" in response.get_data(as_text=True)
    saved = Customer.get_by_id(customer.id)
    assert (saved.name, saved.email) == ("Samuel", "samuel@example.com")
    assert (saved.stripe_version_at, saved.stripe_version_source) == (1_700_000_300, 0)
    assert saved.stripe_customer_id == "cus_S1"


def test_invalid_edit_shows_inline_errors_and_saves_nothing(client, logged_in, rows):
    customer = rows["direct"]
    response = _htmx_save(client, logged_in, customer, "", "not an email")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'aria-invalid="true"' in html
    assert "Enter a name." in html and "Enter an email address like" in html
    assert Customer.get_by_id(customer.id).email == "dora@example.com"


def test_plain_form_edit_without_javascript(client, logged_in, rows):
    url = f"/customers/{rows['direct'].id}"
    bad = client.post(url, data={"name": "X", "email": "bad", "csrf_token": logged_in})
    assert bad.status_code == 400 and "<html" in bad.get_data(as_text=True)
    good = client.post(url, data={"name": "X", "email": "x@example.com", "csrf_token": logged_in})
    assert good.status_code == 302 and good.location.endswith("/customers")


def test_row_fragment_for_cancel(client, logged_in, rows):
    response = client.get(f"/customers/{rows['direct'].id}/row", headers=HX)
    assert "Dora Direct" in response.get_data(as_text=True)
    assert "HX-Request" in response.vary
    assert client.get(f"/customers/{rows['direct'].id}/row").status_code == 302


@pytest.mark.parametrize(
    "route", ["/customers/{id}", "/customers/{id}/row", "/customers/{id}/edit"]
)
def test_other_businesses_rows_are_404_on_get(client, logged_in, others, route):
    for customer in others:
        assert client.get(route.format(id=customer.id), headers=HX).status_code == 404


def test_other_businesses_rows_are_404_on_post_and_unchanged(client, logged_in, others):
    for customer in others:
        response = client.post(
            f"/customers/{customer.id}",
            data={"name": "Hacked", "email": "h@example.com"},
            headers={"X-CSRFToken": logged_in},
        )
        assert response.status_code == 404
        assert Customer.get_by_id(customer.id).name != "Hacked"


def test_other_businesses_rows_never_listed(client, logged_in, rows, others):
    for query in ("", "?q=Secret", "?sync=not_synced", "?q=sec"):
        html = client.get(f"/customers{query}").get_data(as_text=True)
        assert "Side Secret" not in html and "Stranger Secret" not in html


def test_live_poll_answers_204_until_something_changes(client, logged_in, business):
    marker = change_marker(business.id)
    url = f"/customers/changes?since={marker}&link=none"
    assert client.get(url, headers=HX).status_code == 204
    make_customer(business)
    response = client.get(url, headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "customers-changed"
    assert f"since={change_marker(business.id)}" in response.get_data(as_text=True)


def test_seed_demo_data_is_not_shown_to_other_owners(client, logged_in, runner):
    result = runner.invoke(args=["seed-demo", "--customers", "30"])
    assert result.exit_code == 0, result.output
    assert "No customers yet" in client.get("/customers").get_data(as_text=True)


def _add_probes(business: Business, emails: list[str]) -> None:
    rows = [
        {"business": business.id, "name": "Probe", "email": e, "customer_since": 1_700_000_000}
        for e in emails
    ]
    with db.atomic():
        for start in range(0, len(rows), 500):
            Customer.insert_many(rows[start : start + 500]).execute()


def test_search_counts_do_not_depend_on_other_businesses_rows(client, logged_in, business):
    limit = search_backend().exact_limit()
    _add_probes(business, [f"probe-target+{i}@attacker.example" for i in range(limit)])
    rival = User.create_owner("rival@example.com", "rival password", "Rival Roofing")
    _add_probes(Business.primary_for(rival), ["probe-target@rival.example"])
    page = client.get("/customers", query_string={"q": "probe-target"}).get_data(as_text=True)
    assert f"{limit:,}" in page
    assert "too many to count" not in page
