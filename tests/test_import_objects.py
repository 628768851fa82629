"""The import stores each customer's full object, tax ids expanded, through the
sandbox; a customer deleted in Stripe between imports keeps its last object."""

from __future__ import annotations

from models import Customer
from models.stripe_object import unpack
from sync import importer
from tests.import_support import app, link, sandbox

__all__ = ["app", "sandbox"]


def stored(business, stripe_id):
    row = Customer.get((Customer.business == business) & (Customer.stripe_customer_id == stripe_id))
    return row, unpack(row.stripe_object)


def test_import_stores_full_objects_with_tax_ids(app, sandbox, business):
    account = sandbox.create_account(customers=250)
    client, opts = sandbox.client(), {"stripe_account": account}
    taxed = client.v1.customers.create(
        {
            "name": "Taxed",
            "phone": "+49 30 1234",
            "tax_id_data": [{"type": "eu_vat", "value": "DE123456789"}],
        },
        opts,
    )
    link(business, account)
    run = importer.run_in_foreground(business.id, app.config)
    assert run.status == "succeeded", run.last_error
    everyone = client.v1.customers.list({"limit": 100, "expand": ["data.tax_ids"]}, opts)
    expected = {c.id: c.to_dict() for c in everyone.auto_paging_iter()}
    rows = Customer.for_business(business).where(Customer.stripe_customer_id.is_null(False))
    assert {r.stripe_customer_id: unpack(r.stripe_object) for r in rows} == expected
    _, obj = stored(business, taxed.id)
    assert [t["value"] for t in obj["tax_ids"]["data"]] == ["DE123456789"]


def test_a_customer_deleted_between_imports_keeps_its_last_object(app, sandbox, business):
    account = sandbox.create_account()
    client, opts = sandbox.client(), {"stripe_account": account}
    gone = client.v1.customers.create(
        {
            "name": "Gone",
            "phone": "+1 555",
            "tax_id_data": [{"type": "us_ein", "value": "12-3456789"}],
        },
        opts,
    )
    client.v1.customers.create({"name": "Stays"}, opts)
    link(business, account)
    assert importer.run_in_foreground(business.id, app.config).status == "succeeded"
    _, before = stored(business, gone.id)
    client.v1.customers.delete(gone.id, options=opts)
    assert importer.run_in_foreground(business.id, app.config).status == "succeeded"
    row, after = stored(business, gone.id)
    assert row.deleted_in_stripe_at is not None
    assert after == before
    assert after["phone"] == "+1 555"
