"""An owner removes their own customers deleted in Stripe: a confirmation page, then
a CSRF-checked POST; live rows stay."""

from __future__ import annotations

from datetime import datetime

import pytest

from models import Customer
from models.audit_log import AuditEntry
from models.customer_list import stats
from tests.conftest import make_customer


@pytest.fixture
def gone(business) -> Customer:
    return make_customer(
        business,
        name="Gina Gone",
        stripe_customer_id="cus_gone",
        deleted_in_stripe_at=datetime(2026, 3, 1),
    )


@pytest.fixture
def live(business) -> Customer:
    return make_customer(business, name="Lara Live", stripe_customer_id="cus_live")


def test_the_list_offers_remove_on_deleted_rows_only(client, logged_in, gone, live):
    page = client.get("/customers").get_data(as_text=True)
    assert f'href="/customers/{gone.id}/remove"' in page
    assert f"/customers/{live.id}/remove" not in page


def test_remove_asks_first_then_removes(client, logged_in, business, gone):
    confirm = client.get(f"/customers/{gone.id}/remove")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Remove Gina Gone?" in html
    assert 'method="post"' in html and "Cancel" in html
    assert Customer.get_by_id(gone.id)  # asking removed nothing
    response = client.post(
        f"/customers/{gone.id}/remove", data={"csrf_token": logged_in}, follow_redirects=True
    )
    assert "Removed Gina Gone from your list." in response.get_data(as_text=True)
    assert Customer.get_or_none(Customer.id == gone.id) is None
    assert (stats(business.id)["all"], stats(business.id)["deleted"]) == (0, 0)
    entry = AuditEntry.get(AuditEntry.action == "customer.removed")
    assert (entry.actor_role, entry.actor_email) == ("owner", "owner@example.com")
    assert entry.details_dict["customer"]["name"] == "Gina Gone"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_live_row_cannot_be_removed(client, logged_in, live, method):
    response = client.open(
        f"/customers/{live.id}/remove",
        method=method,
        data={"csrf_token": logged_in},
        follow_redirects=True,
    )
    assert "is synced from Stripe and not deleted in Stripe" in response.get_data(as_text=True)
    assert Customer.get_by_id(live.id).name == "Lara Live"


def test_remove_without_the_csrf_token_is_refused(client, logged_in, gone):
    assert client.post(f"/customers/{gone.id}/remove").status_code == 400
    assert Customer.get_by_id(gone.id)
