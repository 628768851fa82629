"""List pagination: newest first, both cursors, `created` filters, limits."""

import pytest
import stripe


@pytest.fixture
def seeded(sandbox, client):
    account = sandbox.create_account(customers=537)
    everything = []
    page = client.v1.customers.list({"limit": 100}, {"stripe_account": account})
    everything = [c.to_dict() for c in page.auto_paging_iter()]
    return account, everything


def test_forward_pages_cover_everything_newest_first(seeded):
    _, everything = seeded
    assert len(everything) == 537
    assert len({c["id"] for c in everything}) == 537
    created = [c["created"] for c in everything]
    assert created == sorted(created, reverse=True)
    # The seed clusters some customers in the same second, the case cursors must survive.
    assert len(set(created)) < len(created)


def test_backward_pages_with_ending_before(client, seeded):
    account, everything = seeded
    opts = {"stripe_account": account}
    cursor, collected = everything[-1]["id"], []
    while True:
        page = client.v1.customers.list({"limit": 33, "ending_before": cursor}, opts)
        collected = [c.id for c in page.data] + collected
        if not page.has_more:
            break
        cursor = page.data[0].id
    assert collected == [c["id"] for c in everything[:-1]]


def test_small_pages_forward(client, seeded):
    account, everything = seeded
    opts = {"stripe_account": account}
    page = client.v1.customers.list({"limit": 7}, opts)
    assert len(page.data) == 7 and page.has_more and page.url == "/v1/customers"
    ids = [c.id for c in page.auto_paging_iter()]
    assert ids == [c["id"] for c in everything]


@pytest.mark.parametrize("op", ["gt", "gte", "lt", "lte"])
def test_created_filters(client, seeded, op):
    account, everything = seeded
    pivot = everything[len(everything) // 2]["created"]
    keep = {
        "gt": lambda t: t > pivot,
        "gte": lambda t: t >= pivot,
        "lt": lambda t: t < pivot,
        "lte": lambda t: t <= pivot,
    }[op]
    page = client.v1.customers.list(
        {"limit": 100, "created": {op: pivot}}, {"stripe_account": account}
    )
    ids = [c.id for c in page.auto_paging_iter()]
    assert ids == [c["id"] for c in everything if keep(c["created"])]


def test_created_exact_and_range(client, seeded):
    account, everything = seeded
    newest, oldest = everything[10]["created"], everything[200]["created"]
    page = client.v1.customers.list(
        {"limit": 100, "created": {"gte": oldest, "lte": newest}}, {"stripe_account": account}
    )
    ids = [c.id for c in page.auto_paging_iter()]
    assert ids == [c["id"] for c in everything if oldest <= c["created"] <= newest]


@pytest.mark.parametrize("limit", [0, 101])
def test_limit_out_of_range_is_rejected(client, account, limit):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.list({"limit": limit}, {"stripe_account": account})
    assert info.value.http_status == 400
    assert info.value.param == "limit"


def test_default_limit_is_ten(sandbox, client):
    account = sandbox.create_account(customers=25)
    page = client.v1.customers.list({}, {"stripe_account": account})
    assert len(page.data) == 10 and page.has_more


def test_both_cursors_is_an_error(client, seeded):
    account, everything = seeded
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.list(
            {"starting_after": everything[3]["id"], "ending_before": everything[1]["id"]},
            {"stripe_account": account},
        )
