"""The sandbox's own page: lists accounts, customers and deliveries; its buttons act."""

import requests


def test_page_lists_accounts_customers_and_events(sandbox, client, receiver):
    account = sandbox.create_account(name="Watched shop", customers=45)
    client.v1.customers.create({"name": "Zed Fresh"}, {"stripe_account": account})
    sandbox.wait_for_deliveries_idle()
    page = requests.get(sandbox.url + "/", params={"account": account}, timeout=5)
    assert page.status_code == 200
    for text in ("Watched shop", account, "Zed Fresh", "customer.created", "delivered"):
        assert text in page.text
    assert "Older →" in page.text


def test_page_paginates(sandbox, client):
    account = sandbox.create_account(customers=45)
    newest = client.v1.customers.list({"limit": 21}, {"stripe_account": account}).data
    second = requests.get(
        sandbox.url + "/",
        params={"account": account, "starting_after": newest[19].id},
        timeout=5,
    )
    assert newest[20].id in second.text and newest[0].id not in second.text


def test_buttons_create_update_delete_and_revoke(sandbox, client, account):
    opts = {"stripe_account": account}
    base = f"{sandbox.url}/accounts/{account}"
    requests.post(f"{base}/customers", data={"name": "Made", "email": "m@x.test"}, timeout=5)
    (made,) = client.v1.customers.list({}, opts).data
    assert (made.name, made.email) == ("Made", "m@x.test")
    requests.post(f"{base}/customers/{made.id}", data={"name": "Renamed"}, timeout=5)
    assert client.v1.customers.retrieve(made.id, options=opts).name == "Renamed"
    requests.post(f"{base}/customers/{made.id}/delete", timeout=5)
    assert client.v1.customers.retrieve(made.id, options=opts).deleted is True
    requests.post(f"{base}/revoke", timeout=5)
    page = requests.get(sandbox.url + "/", params={"account": account}, timeout=5).text
    assert "account.application.deauthorized" in page and "revoked" in page


def test_customer_page_shows_fields_and_tax_ids_and_its_forms_act(sandbox, client, account):
    opts = {"stripe_account": account}
    made = client.v1.customers.create(
        {"name": "Paged", "phone": "+1 555 0100", "metadata": {"crm_id": "CRM-7"}}, opts
    )
    url = f"{sandbox.url}/accounts/{account}/customers/{made.id}"
    index = requests.get(sandbox.url + "/", params={"account": account}, timeout=5).text
    assert f'href="/accounts/{account}/customers/{made.id}"' in index
    requests.post(f"{url}/tax_ids", data={"type": "gb_vat", "value": "GB123456789"}, timeout=5)
    requests.post(
        f"{url}/fields",
        data={"phone": "+1 555 0199", "description": "", "tax_exempt": "exempt"},
        timeout=5,
    )
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    for text in ("Paged", "+1 555 0199", "CRM-7", "GB123456789", "exempt", "&#34;tax_ids&#34;"):
        assert text in page.text, text
    fetched = client.v1.customers.retrieve(made.id, {"expand": ["tax_ids"]}, opts)
    assert (fetched.phone, fetched.tax_exempt) == ("+1 555 0199", "exempt")
    (tax,) = fetched.tax_ids.data
    requests.post(f"{url}/tax_ids/{tax.id}/delete", timeout=5)
    assert client.v1.customers.tax_ids.list(made.id, options=opts).data == []
