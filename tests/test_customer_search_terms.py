"""models/customer_search.py ``search_terms``: the search index is contentless, so a
row's old terms are removed by computing them again; the terms of any text must stay
exactly what they were when the row was indexed (migration 0010)."""

from __future__ import annotations

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from models.customer_search import search_terms


def indexed_terms(business_id, name, email, stripe_object) -> str:
    """The terms as migration 0010 defined them: per-character hex n-grams."""
    texts = [name, email]
    try:
        obj = json.loads(stripe_object) if stripe_object else None
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        texts += [obj["phone"]] if isinstance(obj.get("phone"), str) else []
        metadata = obj.get("metadata")
        if isinstance(metadata, dict):
            texts += [value for value in metadata.values() if isinstance(value, str)]
    prefix = f"{business_id}z"
    words, short = [], set()
    for text in (str(t).lower() for t in texts if t):
        hexes = [ch.encode("utf-8", "surrogatepass").hex() for ch in text]
        pairs = [a + b for a, b in itertools.pairwise(hexes)]
        words += [prefix + pair + c for pair, c in zip(pairs, hexes[2:], strict=False)]
        words.append("zz")
        short.update(hexes, pairs)
    return " ".join(words + [prefix + gram for gram in sorted(short)])


TEXT = st.none() | st.text(max_size=12) | st.text(st.characters(max_codepoint=127), max_size=12)
OBJECTS = (
    st.none()
    | st.sampled_from(["", "not json", "[1]", '{"ph\\u006fne": "Hi"}'])
    | st.builds(
        lambda phone, metadata: json.dumps({"id": "cus_1", "phone": phone, "metadata": metadata}),
        TEXT,
        st.dictionaries(st.text(max_size=3), TEXT, max_size=3),
    )
)


@settings(max_examples=300, deadline=None)
@given(business_id=st.integers(1, 10**6), name=TEXT, email=TEXT, stripe_object=OBJECTS)
def test_terms_are_those_the_index_was_built_with(business_id, name, email, stripe_object):
    expected = indexed_terms(business_id, name, email, stripe_object)
    assert search_terms(business_id, name, email, stripe_object) == expected


def test_terms_of_text_with_a_lone_surrogate_and_accents():
    args = (3, "Zoë \ud800x", "A@B.c", '{"metadata": {"k": "Väl"}, "phone": "+1 5"}')
    assert search_terms(*args) == indexed_terms(*args)
