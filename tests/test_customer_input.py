"""sync/customer_input.py: the quick check of plain JSON trees decides exactly as the
full walk does (which alone says why an object fails)."""

from __future__ import annotations

import json
from collections import OrderedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import customer_input
from sync.customer_input import MAX_DEPTH, InvalidCustomer, check_customer

NOW = 1_800_000_000.0
TEXT = st.text(st.characters(codec=None), max_size=8) | st.sampled_from(
    ["\ud800", "a\udfff", "x" * 10_000, "x" * 10_001, "é"]
)
LEAVES = TEXT | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
TREES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=40,
)


_NESTED_OK = '{"id": "cus_1", "created": 1700000000, "address": {"lines": ["x"]}}'
_NESTED_SURROGATE = _NESTED_OK.replace('"x"', '"\\udfff"')


def customer(**fields) -> dict:
    return {"id": "cus_1", "object": "customer", "created": 1_700_000_000, **fields}


def verdict(obj) -> str:
    try:
        check_customer(obj, now=NOW)
    except InvalidCustomer as error:
        return str(error)
    return "stored"


def deep(levels: int):
    """A value whose innermost string sits ``levels`` below the object's fields."""
    value = "leaf"
    for _ in range(levels):
        value = [value]
    return value


@settings(max_examples=300, deadline=None)
@given(extra=st.dictionaries(TEXT, TREES, max_size=4), depth=st.integers(0, MAX_DEPTH + 1))
def test_the_quick_check_agrees_with_the_full_walk(extra, depth, monkeypatch_module):
    obj = customer(extra=extra, nested=deep(depth))
    quick = verdict(obj)
    with monkeypatch_module.context() as patch:
        patch.setattr(customer_input, "_plain_tree_passes", lambda node, depth: False)
        assert verdict(obj) == quick


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        (customer(address=deep(MAX_DEPTH - 2)), "stored"),
        (customer(address=deep(MAX_DEPTH - 1)), f"nested more than {MAX_DEPTH} levels deep"),
        (customer(metadata={"\ud800": "x"}), "not valid Unicode"),
        (customer(shipping={"lines": ["ok", "x" * 10_001]}), "text over 10,000 characters"),
        (customer(shipping={"lines": ("\ud800",)}), "not valid Unicode"),
        (json.loads('{"id": "cus_1", "name": "\\ud800", "created": 1700000000}'), "Unicode"),
        (json.loads(_NESTED_SURROGATE, object_pairs_hook=OrderedDict), "Unicode"),
        (json.loads(_NESTED_OK, object_pairs_hook=OrderedDict), "stored"),
    ],
    ids=[
        "deepest allowed",
        "one deeper",
        "surrogate key",
        "long text in a list",
        "tuple",
        "json",
        "ordered json",  # what the official library parses a response into
        "ordered json, fine",
    ],
)
def test_what_the_quick_check_passes_on_and_what_it_refuses(obj, reason):
    assert reason in verdict(obj)
