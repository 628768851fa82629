"""Customers CRUD against the sandbox through the official library."""

import stripe


def test_create_retrieve_update_delete(client, account):
    opts = {"stripe_account": account}
    created = client.v1.customers.create(
        {"email": "ada@example.com", "name": "Ada", "metadata": {"plan": "pro"}}, opts
    )
    assert created.id.startswith("cus_")
    assert created.object == "customer"
    assert created.livemode is False
    assert created.metadata.to_dict() == {"plan": "pro"}
    fetched = client.v1.customers.retrieve(created.id, options=opts)
    assert fetched.to_dict() == created.to_dict()

    updated = client.v1.customers.update(created.id, {"name": "Ada L.", "email": ""}, opts)
    assert updated.name == "Ada L."
    assert updated.email is None

    deleted = client.v1.customers.delete(created.id, options=opts)
    assert deleted.to_dict() == {"id": created.id, "object": "customer", "deleted": True}
    again = client.v1.customers.retrieve(created.id, options=opts)
    assert again.to_dict() == {"id": created.id, "object": "customer", "deleted": True}


# The keys of the customer in Stripe's fixtures3.json (see /work/shared/stripe/fixtures.json).
FIXTURE_FIELDS = {
    "address", "balance", "created", "currency", "default_source", "delinquent",
    "description", "discount", "email", "id", "invoice_prefix", "invoice_settings",
    "livemode", "metadata", "name", "next_invoice_sequence", "object", "phone",
    "preferred_locales", "shipping", "tax_exempt", "test_clock",
}  # fmt: skip


def test_customer_has_every_fixture_field(client, account):
    created = client.v1.customers.create({"name": "Shape"}, {"stripe_account": account})
    assert set(created.to_dict()) == FIXTURE_FIELDS


def test_email_filter_is_exact_and_case_sensitive(client, account):
    opts = {"stripe_account": account}
    client.v1.customers.create({"email": "x@example.com"}, opts)
    client.v1.customers.create({"email": "X@example.com"}, opts)
    found = client.v1.customers.list({"email": "x@example.com"}, opts)
    assert [c.email for c in found.data] == ["x@example.com"]


def test_missing_customer_is_resource_missing(client, account):
    try:
        client.v1.customers.retrieve("cus_nope", options={"stripe_account": account})
    except stripe.InvalidRequestError as exc:
        assert exc.http_status == 404
        assert exc.code == "resource_missing"
        assert exc.param == "id"
    else:
        raise AssertionError("expected InvalidRequestError")


def test_idempotency_key_replays_the_first_answer(client, account):
    opts = {"stripe_account": account, "idempotency_key": "same-key"}
    first = client.v1.customers.create({"name": "Once"}, opts)
    second = client.v1.customers.create({"name": "Once"}, opts)
    assert first.id == second.id
    listed = client.v1.customers.list({}, {"stripe_account": account})
    assert [c.id for c in listed.data] == [first.id]
