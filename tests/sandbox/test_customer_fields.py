"""Every customer field the sandbox accepts is stored and returned in Stripe's shape,
and tax ids are created, listed, expanded and deleted as Stripe does — all through
the official library."""

import pytest
import stripe

ADDRESS = {
    "line1": "1 Market St",
    "line2": "",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94107",
    "country": "US",
}
FULL = {
    "name": "Ada",
    "email": "ada@example.com",
    "phone": "+1 415 555 0100",
    "description": "Wholesale",
    "address": ADDRESS,
    "shipping": {"name": "Ada's dock", "phone": "+1 415 555 0101", "address": ADDRESS},
    "metadata": {"crm_id": "CRM-1", "segment": "commercial"},
    "balance": -1250,
    "tax_exempt": "reverse",
    "preferred_locales": ["en-US", "fr-FR"],
    "invoice_prefix": "ADA2026",
    "invoice_settings": {
        "footer": "Thanks!",
        "custom_fields": [{"name": "PO", "value": "42"}],
    },
}
STRIPE_ADDRESS = {**ADDRESS, "line2": None}


def test_every_accepted_field_is_stored_and_returned(client, account):
    opts = {"stripe_account": account}
    created = client.v1.customers.create(FULL, opts)
    fetched = client.v1.customers.retrieve(created.id, options=opts).to_dict()
    assert fetched == created.to_dict()
    assert fetched["phone"] == "+1 415 555 0100"
    assert fetched["description"] == "Wholesale"
    assert fetched["address"] == STRIPE_ADDRESS
    assert fetched["shipping"] == {
        "address": STRIPE_ADDRESS,
        "name": "Ada's dock",
        "phone": "+1 415 555 0101",
    }
    assert fetched["metadata"] == {"crm_id": "CRM-1", "segment": "commercial"}
    assert (fetched["balance"], fetched["tax_exempt"]) == (-1250, "reverse")
    assert fetched["preferred_locales"] == ["en-US", "fr-FR"]
    assert fetched["invoice_prefix"] == "ADA2026"
    assert fetched["invoice_settings"] == {
        "custom_fields": [{"name": "PO", "value": "42"}],
        "default_payment_method": None,
        "footer": "Thanks!",
        "rendering_options": None,
    }
    assert "tax_ids" not in fetched  # only when expanded


def test_update_changes_and_unsets_fields(client, account):
    opts = {"stripe_account": account}
    created = client.v1.customers.create(FULL, opts)
    updated = client.v1.customers.update(
        created.id,
        {"phone": "", "shipping": "", "balance": 500, "metadata": {"segment": ""}},
        opts,
    )
    assert (updated.phone, updated.shipping, updated.balance) == (None, None, 500)
    assert updated.metadata.to_dict() == {"crm_id": "CRM-1"}


@pytest.mark.parametrize(
    ("params", "param"),
    [
        pytest.param({"tax_exempt": "sometimes"}, "tax_exempt", id="tax-exempt"),
        pytest.param({"balance": "lots"}, "balance", id="balance"),
        pytest.param({"invoice_prefix": "a"}, "invoice_prefix", id="invoice-prefix"),
        pytest.param({"shipping": {"address": ADDRESS}}, "shipping[name]", id="shipping-name"),
        pytest.param({"expand": ["subscriptions"]}, "expand", id="expand"),
        pytest.param({"tax_id_data": [{"type": "xx_vat", "value": "1"}]}, "type", id="tax-id-type"),
    ],
)
def test_bad_fields_are_refused_with_the_param(client, account, params, param):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params, {"stripe_account": account})
    assert caught.value.http_status == 400
    assert caught.value.param == param


def test_tax_ids_are_created_listed_expanded_and_deleted(client, account):
    opts = {"stripe_account": account}
    created = client.v1.customers.create(
        {"name": "Tax", "tax_id_data": [{"type": "eu_vat", "value": "DE123456789"}]},
        opts,
    )
    second = client.v1.customers.tax_ids.create(
        created.id, {"type": "us_ein", "value": "12-3456789"}, opts
    )
    assert second.object == "tax_id"
    assert (second.country, second.customer, second.type) == ("US", created.id, "us_ein")
    assert second.owner.to_dict() == {"customer": created.id, "type": "customer"}
    assert second.verification.status == "unavailable"

    listed = client.v1.customers.tax_ids.list(created.id, options=opts)
    assert [(t.type, t.value, t.country) for t in listed.data] == [
        ("eu_vat", "DE123456789", "DE"),
        ("us_ein", "12-3456789", "US"),
    ]
    one = client.v1.customers.tax_ids.retrieve(created.id, second.id, options=opts)
    assert one.to_dict() == second.to_dict()

    expanded = client.v1.customers.retrieve(created.id, {"expand": ["tax_ids"]}, opts)
    assert expanded.tax_ids.object == "list"
    assert expanded.tax_ids.total_count == 2
    assert expanded.tax_ids.url == f"/v1/customers/{created.id}/tax_ids"
    assert [t.id for t in expanded.tax_ids.data] == [t.id for t in listed.data]

    page = client.v1.customers.list({"expand": ["data.tax_ids"]}, opts)
    assert [c.tax_ids.total_count for c in page.data] == [2]
    assert "tax_ids" not in client.v1.customers.list({}, opts).data[0]

    gone = client.v1.customers.tax_ids.delete(created.id, second.id, options=opts)
    assert gone.to_dict() == {"id": second.id, "object": "tax_id", "deleted": True}
    again = client.v1.customers.retrieve(created.id, {"expand": ["tax_ids"]}, opts)
    assert [t.value for t in again.tax_ids.data] == ["DE123456789"]


@pytest.mark.parametrize("value", ["DE12", "not a number"], ids=["too-short", "letters"])
def test_a_malformed_tax_id_is_tax_id_invalid(client, account, value):
    opts = {"stripe_account": account}
    created = client.v1.customers.create({"name": "Tax"}, opts)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.tax_ids.create(created.id, {"type": "eu_vat", "value": value}, opts)
    assert (caught.value.code, caught.value.param) == ("tax_id_invalid", "value")


def test_seeded_customers_have_a_realistic_mix(sandbox, client):
    account = sandbox.create_account(customers=400)
    opts = {"stripe_account": account}
    listing = client.v1.customers.list({"limit": 100, "expand": ["data.tax_ids"]}, opts)
    customers = [c.to_dict() for c in listing.auto_paging_iter()]
    assert len(customers) == 400

    def share(test):
        return sum(1 for c in customers if test(c)) / len(customers)

    assert 0.4 < share(lambda c: c["phone"]) < 0.8
    assert 0.35 < share(lambda c: c["address"]) < 0.75
    assert 0.05 < share(lambda c: c["shipping"]) < 0.35
    assert 0.55 < share(lambda c: c["currency"]) < 0.95
    assert 0.2 < share(lambda c: c["metadata"]) < 0.6
    assert 0.05 < share(lambda c: c["tax_ids"]["data"]) < 0.3
    assert share(lambda c: c["balance"]) > 0
    for c in customers:
        for tax in c["tax_ids"]["data"]:
            assert (tax["object"], tax["customer"]) == ("tax_id", c["id"])
