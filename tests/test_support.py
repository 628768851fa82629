"""The support console through the test client: support accounts, navigation,
finding a business, and the platform's webhook status."""

from __future__ import annotations

import pytest

from models import Business, Customer, StripeAccount, User
from models.audit_log import AuditEntry
from tests.conftest import SUPPORT_EMAIL, make_customer
from tests.console_support import (  # noqa: F401  (fixtures)
    console_app,
    console_fixture,
    csrf_fixture,
    failed_event,
    link_fixture,
    text,
)
from tests.webhooks_support import ACCOUNT, stripe_customer


@pytest.fixture
def app(tmp_path):
    return console_app(tmp_path)


# --- Accounts and navigation -------------------------------------------------------


def test_create_support_makes_an_account_without_a_business(runner):
    result = runner.invoke(
        args=["create-support", "--email", "Help@ShingleAI.test", "--password", "long enough pw"]
    )
    assert result.exit_code == 0, result.output
    user = User.by_email("help@shingleai.test")
    assert user.is_support and not user.businesses.exists()


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        pytest.param("not-an-email", "long enough pw", "must be an email", id="bad-email"),
        pytest.param("h@shingleai.test", "short", "at least 12", id="short-password"),
        pytest.param("owner@example.com", "long enough pw", "already exists", id="taken"),
    ],
)
def test_create_support_refuses_bad_input(runner, owner, email, password, message):
    result = runner.invoke(args=["create-support", "--email", email, "--password", password])
    assert result.exit_code != 0 and message in result.output
    assert not User.select().where(User.role == "support").exists()


def test_support_logs_in_to_the_console_and_sees_only_its_navigation(client, auth, support_user):
    response = auth.login(email=SUPPORT_EMAIL, password="support staff password")
    assert response.location == "/support"
    page = text(client.get("/support"))
    assert ">Support</a>" in page and ">Audit log</a>" in page
    assert ">Customers</a>" not in page and ">API tokens</a>" not in page
    assert client.get("/").location == "/support"


def test_a_next_link_to_an_owner_page_does_not_take_support_there(client, auth, support_user):
    csrf = auth.csrf_token()
    response = client.post(
        "/login?next=/customers",
        data={"email": SUPPORT_EMAIL, "password": "support staff password", "csrf_token": csrf},
    )
    assert response.location == "/support"


def test_owners_keep_their_own_home(client, logged_in):
    assert client.get("/").location == "/customers"
    assert ">Support</a>" not in text(client.get("/customers"))


# --- Finding a business ------------------------------------------------------------


@pytest.fixture
def businesses(business, link):
    """The owner's business (linked, with customers) and an unrelated one."""
    make_customer(
        business, name="Wendy Lee", email="wendy@lee.example", stripe_customer_id="cus_W1"
    )
    rival = User.create_owner("rival@example.com", "rival password", "Rival Gutters")
    return business, Business.primary_for(rival)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        pytest.param("shingle roof", "business name", id="name"),
        pytest.param("OWNER@example", "owner owner@example.com", id="owner-email"),
        pytest.param(ACCOUNT, f"Stripe account {ACCOUNT} (connected)", id="stripe-account"),
        pytest.param("cus_W1", "customer cus_W1", id="stripe-customer-id"),
        pytest.param("wendy@LEE", "customer wendy@lee.example", id="customer-email"),
    ],
)
def test_find_a_business(console, businesses, query, reason):
    page = text(console.get("/support", query_string={"q": query}))
    assert "Shingle Roofing" in page and reason in page
    assert "Rival Gutters" not in page


def test_find_by_an_account_linked_before_a_switch(console, businesses):
    business, _ = businesses
    link = StripeAccount.for_business(business)
    link.mark_disconnected("gone")
    StripeAccount.attach(business, "acct_2New", livemode=False)
    page = text(console.get("/support", query_string={"q": ACCOUNT}))
    assert f"was linked to {ACCOUNT}" in page and "Shingle Roofing" in page


def test_find_by_shingleai_customer_id(console, businesses):
    customer = Customer.get(Customer.stripe_customer_id == "cus_W1")
    page = text(console.get("/support", query_string={"q": str(customer.id)}))
    assert "Shingle Roofing" in page


def test_search_says_what_it_needs_and_when_nothing_matches(console, businesses):
    assert "Type at least 2 characters." in text(console.get("/support?q=x"))
    assert "No business matches “nothing like it”" in text(
        console.get("/support", query_string={"q": "nothing like it"})
    )


def test_searches_are_audit_logged(console, businesses):
    console.get("/support", query_string={"q": "shingle"})
    entry = AuditEntry.select().order_by(AuditEntry.id.desc()).get()
    assert (entry.action, entry.actor_email) == ("business.searched", SUPPORT_EMAIL)
    assert entry.details_dict["query"] == "shingle"


def test_the_console_states_operator_set_up(console, business, link):
    page = text(console.get("/support"))
    assert "https://shingle.example/webhooks/stripe" in page
    assert "No webhook received yet" in page
    assert "STRIPE_WEBHOOK_SECRET is set (1 secret)" in page
    assert "1 connected, 0 disconnected" in page
    assert "whsec_current" not in page


def test_the_console_counts_failed_events_platform_wide(console, business, link):
    failed_event(stripe_customer("cus_F1"))
    page = text(console.get("/support"))
    assert "1 event failed in the last 24 h" in page and "Failed: 1" in page
