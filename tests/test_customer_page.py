"""The customer page /customers/<id>: a full page (list + panel), the panel alone for
htmx, Stripe's fields grouped and read-only, "Open in Stripe", plain statements of what
is missing, and 404 for rows of other businesses."""

from __future__ import annotations

import pytest

from models import Business, Customer, StripeAccount, User
from models.stripe_object import pack
from sync.customers import Change, apply_changes
from sync.ordering import Source, Version
from tests.conftest import make_customer
from views.customer_detail import balance, dashboard_url, money

HX = {"HX-Request": "true"}
ADDRESS = {
    "city": "Berlin",
    "country": "DE",
    "line1": "Hauptstraße 5",
    "line2": None,
    "postal_code": "10115",
    "state": None,
}
OBJECT = {
    "id": "cus_FULL",
    "object": "customer",
    "created": 1_700_000_000,
    "livemode": False,
    "name": "Fiona Full",
    "email": "fiona@example.com",
    "phone": "+49 30 1234567",
    "description": "Wholesale roofing supplies",
    "address": ADDRESS,
    "shipping": {"address": ADDRESS, "name": "Loading dock", "phone": None},
    "currency": "eur",
    "balance": -1250,
    "tax_exempt": "reverse",
    "invoice_prefix": "FIONA1",
    "next_invoice_sequence": 7,
    "preferred_locales": ["de-DE"],
    "metadata": {"crm_id": "CRM-00042", "segment": "commercial"},
    "tax_ids": {
        "object": "list",
        "data": [
            {
                "id": "txi_1",
                "object": "tax_id",
                "type": "eu_vat",
                "value": "DE123456789",
                "country": "DE",
                "verification": {"status": "verified"},
            }
        ],
        "has_more": False,
        "total_count": 1,
        "url": "/v1/customers/cus_FULL/tax_ids",
    },
}


@pytest.fixture
def linked(business):
    return StripeAccount.create(business=business, account_id="acct_LINKED")


@pytest.fixture
def full(business, linked):
    apply_changes(business.id, [Change(OBJECT, Version(1_700_000_100, Source.EVENT))])
    return Customer.get(Customer.stripe_customer_id == "cus_FULL")


def page(client, customer, query="", headers=None):
    response = client.get(f"/customers/{customer.id}{query}", headers=headers or {})
    assert response.status_code == 200
    assert "HX-Request" in response.vary
    return response.get_data(as_text=True)


def test_full_page_shows_the_list_and_every_group(client, logged_in, full):
    html = page(client, full)
    assert "<html" in html and 'id="customers-table"' in html  # the list beside it
    panel = html.split('id="customer-panel"')[1]
    for title in ("Contact", "Addresses", "Tax", "Billing", "Metadata", "Stripe facts"):
        assert f'>{title} <span class="badge badge-readonly">Read-only</span>' in panel
    for text in (
        "+49 30 1234567",
        "Wholesale roofing supplies",
        "Hauptstraße 5<br>10115 Berlin<br>DE",
        "Loading dock<br>Hauptstraße 5",
        "EU VAT",
        "DE123456789 (verification verified)",
        "Reverse charge",
        "EUR",
        "€12.50 credit, applied to the next invoice",
        "FIONA1",
        "<dt>crm_id</dt>",
        "CRM-00042",
        "cus_FULL",
        "Nov 14, 2023 22:13 UTC",
        "Test",
        "From Stripe, read-only here",
    ):
        assert text in panel, text


def test_htmx_gets_the_panel_alone(client, logged_in, full):
    html = page(client, full, headers=HX)
    assert "<html" not in html and 'id="customers-table"' not in html
    assert 'class="customer-panel"' in html and "+49 30 1234567" in html


@pytest.mark.parametrize(
    "extra",
    [{"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}],
    ids=["boost", "history"],
)
def test_boosted_and_history_requests_get_the_whole_page(client, logged_in, full, extra):
    assert "<html" in page(client, full, headers=HX | extra)


def test_the_list_state_is_kept_beside_the_panel(client, logged_in, business, full):
    make_customer(business, name="Other Person", email="other@example.com")
    html = page(client, full, "?q=Fiona")
    table = html.split('id="customers-table"')[1].split('id="customer-panel"')[0]
    assert "Fiona Full" in table and "Other Person" not in table
    assert f'href="/customers/{full.id}?q=Fiona"' in table  # rows open with the same state
    assert 'class="panel-close" href="/customers?q=Fiona"' in html


def test_rows_open_the_panel_with_htmx_and_work_as_plain_links(client, logged_in, full):
    html = client.get("/customers").get_data(as_text=True)
    row = html.split(f'id="customer-{full.id}"')[1].split("</tr>")[0]
    url = f"/customers/{full.id}"
    assert f'href="{url}"' in row and f'hx-get="{url}"' in row
    assert 'hx-target="#customer-panel"' in row and 'hx-push-url="true"' in row


def test_sandbox_mode_links_to_the_sandbox_page(client, logged_in, full, app):
    html = page(client, full)
    expected = f"{app.config['STRIPE_SANDBOX_URL']}/accounts/acct_LINKED/customers/cus_FULL"
    assert f'href="{expected}"' in html and "Open in the Stripe sandbox" in html


@pytest.mark.parametrize(
    ("livemode", "sandbox", "url"),
    [
        (True, None, "https://dashboard.stripe.com/acct_1/customers/cus_1"),
        (False, None, "https://dashboard.stripe.com/acct_1/test/customers/cus_1"),
        (
            False,
            "http://127.0.0.1:12111/",
            "http://127.0.0.1:12111/accounts/acct_1/customers/cus_1",
        ),
    ],
    ids=["live", "test", "sandbox"],
)
def test_dashboard_url(livemode, sandbox, url):
    assert dashboard_url("acct_1", "cus_1", livemode, sandbox) == url


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1250, "usd", "$12.50"),
        (-1250, "eur", "-€12.50"),
        (500, "jpy", "¥500"),
        (1234567, "kwd", "1,234.567 KWD"),
        (99, "chf", "0.99 CHF"),
        (10**20 + 1, "usd", "$1,000,000,000,000,000,000.01"),
    ],
    ids=["usd", "negative-eur", "zero-decimal-jpy", "three-decimal-kwd", "no-symbol", "huge"],
)
def test_money_uses_the_currency_minor_unit(amount, currency, text):
    assert money(amount, currency) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "None"), (-500, "$5.00 credit"), (500, "$5.00 owed")],
    ids=["zero", "credit", "owed"],
)
def test_balance_says_credit_or_owed(amount, text):
    assert balance(amount, "usd").startswith(text)


def test_a_synced_row_without_its_object_says_what_is_missing(client, logged_in, business, linked):
    row = make_customer(business, stripe_customer_id="cus_OLD", name="Olga Old")
    html = page(client, row)
    assert "have not been fetched yet" in html
    assert "next import" in html
    assert "Stripe facts" not in html
    assert "/acct_LINKED/customers/cus_OLD" in html  # Stripe still has it all


def test_tax_ids_not_yet_expanded_are_said_to_be_missing(client, logged_in, business, linked):
    obj = {k: v for k, v in OBJECT.items() if k != "tax_ids"}
    row = make_customer(business, stripe_customer_id="cus_FULL", stripe_object=pack(obj))
    assert "Not fetched yet" in page(client, row)


def test_a_direct_row_has_no_stripe_data_and_no_link(client, logged_in, business, linked):
    html = page(client, make_customer(business, name="Dora Direct"))
    assert "Created directly in ShingleAI" in html
    assert 'id="open-in-stripe"' not in html
    assert "next change to this customer" not in html


def test_a_deleted_row_shows_its_last_object(client, logged_in, business, full):
    apply_changes(business.id, [Change(OBJECT, Version(1_700_000_200, Source.EVENT), deleted=True)])
    html = page(client, full)
    assert "Deleted in Stripe: these are the last details" in html
    assert "+49 30 1234567" in html


def test_local_edit_keeps_its_stripe_overwrites_note(client, logged_in, full):
    html = page(client, full)
    assert "next change to this customer overwrites the edit" in html
    assert f'href="/customers/{full.id}/edit"' in html


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_other_businesses_customers_are_404(client, logged_in, owner, headers):
    side = Business.get((Business.owner == owner) & ~Business.is_primary)
    stranger = User.create_owner("other@example.com", "another password", "Other Co")
    for business in (side, Business.primary_for(stranger)):
        row = make_customer(business, stripe_customer_id="cus_X", stripe_object=pack(OBJECT))
        response = client.get(f"/customers/{row.id}", headers=headers)
        assert response.status_code == 404
        assert "cus_FULL" not in response.get_data(as_text=True)
