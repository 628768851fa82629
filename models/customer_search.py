"""Customer search whose cost is the caller's own data, never another business's.

A search is a case-insensitive substring of a customer's name, email, phone or any
metadata value (the last two read from ``stripe_object``, Stripe's customer JSON).

Why this index (migration 0010), measured at 1M + 1M rows (bench/list_page.py):
the FTS5 trigram table of migration 0007 indexed every business together, so a MATCH
read every business's matches before the join dropped the others': 7 ms when the
other business had none, 132 ms when it had 44,148, and the time said how many they
had. Joining an FTS5 table on a business column cannot help, since the term's
postings are still read whole. Here every indexed *term* carries the business id:
``customer_search`` is a contentless FTS5 table (``tokenize='ascii'``) whose terms
are ``<business id>z<hex of an n-gram>``, so the posting list a MATCH reads holds the
caller's rows only. A per-business posting table (business, trigram, customer) does
the same but stores each posting as a B-tree row, several times the size of FTS5's
delta-compressed doclists, and an AND of trigrams cannot check they are adjacent
without reading the rows back.

- Substrings of 3+ characters are a phrase of their trigrams: FTS5's positions make
  it an exact substring match, as the trigram tokenizer does. A gap term (``zz``,
  never queried) separates fields, so no phrase spans a name and an email.
- 1-2 character terms have index paths too: each row also carries its distinct
  unigrams and bigrams (after the phrase section), so a rare short term is one
  posting-list read instead of a walk over a million rows.
- The terms come from ``customer_search_terms()``, a Python function registered on
  every connection and called by the triggers, so the import, webhooks, edits and
  the API all keep the index in step through the one place that writes rows. The
  table is contentless, so a row's old terms are removed by recomputing them from its
  old values: changing ``search_terms`` needs a migration that rebuilds the index.

Text is lower-cased with Python's ``str.lower`` (Unicode-aware). Control characters
(NUL included) are removed from a query: no stored text holds them, and an FTS
syntax error must never become a 500.
"""

from __future__ import annotations

import itertools
import json
import unicodedata

from peewee import SQL

from models.db import db, register_sqlite_function

# Above this many matches, sorting them all would outweigh walking the list index.
EXACT_LIMIT = 5000
MAX_QUERY = 200
GAP = "zz"


def exact_limit() -> int:
    """How many matches this backend counts exactly before it walks the list instead
    (models/customer_search_postgres.py has its own)."""
    return EXACT_LIMIT


TERMS_FUNCTION = "customer_search_terms"


def clean_query(q: str | None) -> str:
    """``q`` as searched: control characters and lone surrogates removed, trimmed, at
    most ``MAX_QUERY`` characters."""
    kept = (ch for ch in (q or "") if unicodedata.category(ch) not in ("Cc", "Cs") or ch in "\t ")
    return "".join(kept).strip()[:MAX_QUERY]


def _hex(text: str) -> str:
    return text.encode("utf-8", "surrogatepass").hex()


_CHAR_HEX: dict[str, str] = {}


def _char_hexes(text: str) -> list[str]:
    """Each character's hex, from a cache: a row's n-grams reuse a few dozen characters."""
    found = []
    for ch in text:
        code = _CHAR_HEX.get(ch)
        if code is None:
            code = _CHAR_HEX.setdefault(ch, _hex(ch)) if len(_CHAR_HEX) < 65536 else _hex(ch)
        found.append(code)
    return found


def _object_texts(stripe_object: str | None) -> list[str]:
    """The phone and metadata values of Stripe's customer JSON, when it is readable."""
    if not stripe_object:
        return []
    if not _may_hold_texts(stripe_object):
        return []
    try:
        obj = json.loads(stripe_object)
    except (ValueError, RecursionError):
        return []
    if not isinstance(obj, dict):
        return []
    texts = [obj["phone"]] if isinstance(obj.get("phone"), str) else []
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        texts.extend(value for value in metadata.values() if isinstance(value, str))
    return texts


def _may_hold_texts(stripe_object: str) -> bool:
    """False when the JSON cannot have a ``phone`` or ``metadata`` key, so the trigger
    need not parse it (most stored objects leave both out: models/stripe_object.py). A
    key is either spelled out in quotes or written with a ``\\u`` escape."""
    if not isinstance(stripe_object, str):
        return True
    return '"phone"' in stripe_object or '"metadata"' in stripe_object or "\\u" in stripe_object


def _grams(text: str) -> tuple[list[str], list[str]]:
    """The hex of each triple of characters of ``text``, and of each single and pair."""
    if text.isascii():  # one byte, two hex digits, per character: slice the whole hex
        whole = text.encode("ascii").hex()
        size = len(whole)
        triples = [whole[i : i + 6] for i in range(0, size - 4, 2)]
        short = [whole[i : i + 2] for i in range(0, size, 2)]
        short += [whole[i : i + 4] for i in range(0, size - 2, 2)]
        return triples, short
    hexes = _char_hexes(text)
    pairs = [a + b for a, b in itertools.pairwise(hexes)]
    return [pair + c for pair, c in zip(pairs, hexes[2:], strict=False)], hexes + pairs


def search_terms(business_id, name, email, stripe_object) -> str:
    """The FTS5 document of one customer row (see the module docstring)."""
    prefix = f"{business_id}z"
    between = " " + prefix  # joins terms that each carry the prefix
    texts = [str(t).lower() for t in (name, email, *_object_texts(stripe_object)) if t]
    sections, short = [], set()
    for text in texts:
        triples, grams = _grams(text)
        if triples:
            sections.append(prefix + between.join(triples))
        sections.append(GAP)
        short.update(grams)
    if short:
        sections.append(prefix + between.join(sorted(short)))
    return " ".join(sections)


register_sqlite_function(search_terms, TERMS_FUNCTION, 4)


def match_expression(business_id: int, q: str) -> str | None:
    """The FTS5 query finding ``q`` in the business's rows (None for an empty query)."""
    q = clean_query(q).lower()
    if not q:
        return None
    prefix = f"{business_id}z"
    if len(q) <= 2:
        return f'"{prefix}{_hex(q)}"'
    return '"' + " ".join(prefix + _hex(q[i : i + 3]) for i in range(len(q) - 2)) + '"'


def matching_ids(business_id: int, q: str) -> list[int] | None:
    """Ids of the business's rows matching ``q``, or None when there are more than
    ``EXACT_LIMIT`` (then walk the list with ``walk_condition``)."""
    expression = match_expression(business_id, q)
    if expression is None:
        return []
    cursor = db.execute_sql(
        "SELECT rowid FROM customer_search WHERE customer_search MATCH ? LIMIT ?",
        (expression, EXACT_LIMIT + 1),
    )
    ids = [row[0] for row in cursor]
    return ids if len(ids) <= EXACT_LIMIT else None


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def walk_condition(q: str):
    """The WHERE term that checks one row for ``q``, for walking the list index when
    matches are frequent: LIKE is case-insensitive for ASCII only, so a non-ASCII
    query of a frequent term matches its own case there."""
    pattern = _like(clean_query(q))
    return SQL(
        "(t1.name LIKE ? ESCAPE '\\' OR t1.email LIKE ? ESCAPE '\\'"
        " OR CASE WHEN json_valid(t1.stripe_object) THEN"
        " json_extract(t1.stripe_object, '$.phone') LIKE ? ESCAPE '\\'"
        " OR EXISTS (SELECT 1 FROM json_each(t1.stripe_object, '$.metadata') AS m"
        " WHERE m.value LIKE ? ESCAPE '\\') ELSE 0 END)",
        [pattern] * 4,
    )
