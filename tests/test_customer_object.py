"""Stripe's full customer object in customer.stripe_object: the compact codec and the
writer's ordering rule (newest wins, deletion keeps the last object, a stub erases
nothing, tax ids survive events that do not carry them)."""

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import Customer
from models.stripe_object import FRESH, pack, unpack
from stripe_sandbox import objects
from sync.customers import Change, apply_changes
from sync.ordering import Source, Version

FIXTURES = json.loads(Path("/work/shared/stripe/fixtures.json").read_text())


def full(cid="cus_1", created=1_700_000_000, **fields):
    """A customer as Stripe sends it: the fixture's shape with this id and fields."""
    return {**FIXTURES["customer"], "id": cid, "created": created, **fields}


def tax_list(cid="cus_1", *values):
    data = [
        {"id": f"txi_{i}", "object": "tax_id", "customer": cid, "type": "eu_vat", "value": v}
        for i, v in enumerate(values)
    ]
    url = f"/v1/customers/{cid}/tax_ids"
    return {"object": "list", "data": data, "has_more": False, "total_count": len(data), "url": url}


def stored(business, cid="cus_1"):
    row = Customer.get((Customer.business == business) & (Customer.stripe_customer_id == cid))
    return unpack(row.stripe_object)


def at(second, source=Source.EVENT):
    return Version(second, source)


# -- the codec ---------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@given(
    base=st.dictionaries(st.sampled_from(sorted(FRESH)), json_values),
    extra=st.dictionaries(
        st.text(min_size=1, max_size=6).filter(lambda k: k[0] != "_"), json_values
    ),
    fresh_keys=st.sets(st.sampled_from(sorted(FRESH))),
)
def test_pack_reconstructs_any_object_exactly(base, extra, fresh_keys):
    obj = {**{k: FRESH[k] for k in fresh_keys}, **base, **extra, "id": "cus_x"}
    assert unpack(pack(obj)) == obj


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param(full(), id="fixture"),
        pytest.param(full(tax_ids=tax_list("cus_1")), id="empty-tax-ids"),
        pytest.param(full(tax_ids=tax_list("cus_1", "DE123456789")), id="one-tax-id"),
        pytest.param(full(tax_ids={**tax_list("cus_1"), "has_more": True}), id="odd-list"),
        pytest.param({"id": "cus_1", "created": 5, "balance": False}, id="false-is-not-zero"),
        pytest.param({"id": "cus_1", "created": 5}, id="missing-fields"),
    ],
)
def test_pack_round_trips(obj):
    assert unpack(pack(obj)) == obj


def test_pack_keeps_only_what_a_fresh_customer_does_not_have():
    fresh = objects.customer("cus_1", 1_700_000_000, prefix="ABC123")
    text = pack({**fresh, "tax_ids": tax_list("cus_1")})
    assert json.loads(text) == {
        "id": "cus_1",
        "created": 1_700_000_000,
        "invoice_prefix": "ABC123",
        "tax_ids": [],
    }
    assert " " not in text


def test_unpack_of_nothing_is_none():
    assert unpack(None) is None


# -- the writer --------------------------------------------------------------------------
def test_import_stores_the_whole_object(business):
    obj = full(phone="+1 555 0100", metadata={"plan": "pro"}, tax_ids=tax_list("cus_1", "DE1"))
    apply_changes(business.id, [Change(obj, at(500, Source.SNAPSHOT))])
    assert stored(business) == obj


def test_newer_version_replaces_the_object_and_older_is_skipped(business):
    apply_changes(business.id, [Change(full(phone="1"), at(500))])
    apply_changes(business.id, [Change(full(phone="2"), at(501))])
    apply_changes(business.id, [Change(full(phone="stale"), at(499))])
    assert stored(business)["phone"] == "2"


def test_same_second_tie_keeps_the_object_until_the_fetch(business):
    apply_changes(business.id, [Change(full(phone="A"), at(600))])
    result = apply_changes(business.id, [Change(full(phone="B"), at(600))])
    assert result.ties == ["cus_1"]
    assert stored(business)["phone"] == "A"
    apply_changes(business.id, [Change(full(phone="B"), at(601, Source.FETCH))])
    assert stored(business)["phone"] == "B"


def test_deletion_event_keeps_the_last_full_object_and_is_final(business):
    apply_changes(business.id, [Change(full(phone="1", tax_ids=tax_list("cus_1", "DE1")), at(500))])
    # customer.deleted carries the full pre-deletion object (without tax ids).
    apply_changes(business.id, [Change(full(phone="last"), at(510), deleted=True)])
    apply_changes(business.id, [Change(full(phone="after"), at(520))])
    kept = stored(business)
    assert kept["phone"] == "last"
    assert [t["value"] for t in kept["tax_ids"]["data"]] == ["DE1"]
    row = Customer.get(Customer.stripe_customer_id == "cus_1")
    assert row.deleted_in_stripe_at is not None


@pytest.mark.parametrize("second", [499, 500, 600], ids=["older", "same", "newer"])
def test_deleted_stub_marks_the_row_but_does_not_erase_the_object(business, second):
    obj = full(phone="+1 555 0100", tax_ids=tax_list("cus_1", "DE1"))
    apply_changes(business.id, [Change(obj, at(500))])
    stub = FIXTURES["deleted_customer"] | {"id": "cus_1"}
    result = apply_changes(business.id, [Change(stub, at(second, Source.FETCH), deleted=True)])
    assert result.deleted == 1
    assert stored(business) == obj


def test_event_without_tax_ids_keeps_the_stored_ones(business):
    apply_changes(business.id, [Change(full(tax_ids=tax_list("cus_1", "DE1")), at(500))])
    apply_changes(business.id, [Change(full(name="Renamed"), at(501))])
    kept = stored(business)
    assert kept["name"] == "Renamed"
    assert [t["value"] for t in kept["tax_ids"]["data"]] == ["DE1"]


def test_expanded_tax_ids_replace_the_stored_ones_even_when_empty(business):
    apply_changes(business.id, [Change(full(tax_ids=tax_list("cus_1", "DE1")), at(500))])
    apply_changes(business.id, [Change(full(tax_ids=tax_list("cus_1")), at(501))])
    assert stored(business)["tax_ids"]["data"] == []


def test_changes_in_one_batch_carry_tax_ids_forward(business):
    changes = [
        Change(full(tax_ids=tax_list("cus_1", "DE1")), at(500, Source.SNAPSHOT)),
        Change(full(name="Later"), at(501)),
    ]
    apply_changes(business.id, changes)
    kept = stored(business)
    assert (kept["name"], kept["tax_ids"]["total_count"]) == ("Later", 1)


def test_a_row_without_an_object_gains_it_at_its_next_change(business):
    from tests.conftest import make_customer

    row = make_customer(business, stripe_customer_id="cus_1", stripe_version_at=400)
    row.stripe_version_source = int(Source.SNAPSHOT)
    row.save()
    assert row.stripe_object is None
    apply_changes(business.id, [Change(full(phone="+1 555"), at(401, Source.SNAPSHOT))])
    assert stored(business)["phone"] == "+1 555"
