"""What a Stripe customer object must be before any of it is stored, whether it came
in a webhook or an import page: the one check both paths call.

Stripe is authoritative for a customer's *values*, but a signed webhook only proves
the sender holds the signing secret, and a value this app cannot store or read back
must never land: a ``created`` of 10**12 was once applied and then every list, API
call and import of that business failed on a year-33658 date. So each field's type
and range is checked first, and a failing object changes nothing:

- ``id``: a string of 1-255 printable ASCII characters, no spaces;
- ``created``: whole seconds between 2009-01-01 (before Stripe) and tomorrow;
- ``name``, ``email``, ``phone``, ``description``: null or text of sane length;
- ``metadata``: null or at most 50 string keys (<= 40 characters) with string values
  (<= 500), Stripe's own limits;
- ``deleted``: a boolean when present; a deletion stub ``{id, object, deleted}`` has
  no other fields;
- anywhere in the object: no lone surrogates (SQLite cannot store them), nesting at
  most ``MAX_DEPTH`` deep.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Mapping

EARLIEST_CREATED = 1_230_768_000  # 2009-01-01T00:00:00Z
DAY = 86_400
MAX_DEPTH = 20
TEXT_MAX = {"name": 1000, "email": 512, "phone": 100, "description": 5000}
ANY_TEXT_MAX = 10_000
METADATA_KEYS, METADATA_KEY_MAX, METADATA_VALUE_MAX = 50, 40, 500
_ID = re.compile(r"[!-~]{1,255}")


class InvalidCustomer(ValueError):
    """The object is not a customer this app can store; the message says why."""


def storable_text(value: str) -> bool:
    """SQLite stores UTF-8: a lone surrogate (``\\ud800``) has no UTF-8 form."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def in_created_range(value: object, now: float | None = None) -> bool:
    """Whole seconds from 2009-01-01 to a day from now (clocks differ a little)."""
    now = time.time() if now is None else now
    return type(value) is int and EARLIEST_CREATED <= value <= now + DAY


def _check_tree(obj: object) -> None:
    """Depth and text of every value, without recursion (the input chooses the depth)."""
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidCustomer(f"it is nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, str):
            if not storable_text(value):
                raise InvalidCustomer("it contains text that is not valid Unicode")
            if len(value) > ANY_TEXT_MAX:
                raise InvalidCustomer(f"it holds text over {ANY_TEXT_MAX:,} characters")
        elif isinstance(value, Mapping):
            for key, item in value.items():
                stack.append((key, depth + 1))
                stack.append((item, depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend((item, depth + 1) for item in value)


_PLAIN_SCALARS = (int, float, bool, type(None))
# The official library parses Stripe's JSON into OrderedDicts.
_PLAIN_OBJECTS = (dict, OrderedDict)


def _plain_tree_passes(node: dict | list, depth: int) -> bool:
    """True when ``node``, a plain JSON tree (``_PLAIN_OBJECTS``, lists, text, numbers,
    booleans, nulls) at ``depth``, certainly passes ``_check_tree``; False when it may
    not, or holds anything else: then ``_check_tree`` decides, and says why. The quick
    path for every object of an import page: checking each value's type once, rather
    than stacking every value, saves most of the check's cost."""
    if depth >= MAX_DEPTH:  # its values would be deeper than allowed
        return False
    pairs = enumerate(node) if type(node) is list else node.items()
    for key, value in pairs:
        if type(key) is str:
            if len(key) > ANY_TEXT_MAX or not (key.isascii() or storable_text(key)):
                return False
        elif type(key) not in _PLAIN_SCALARS:  # list indices are ints
            return False
        kind = type(value)
        if kind is str:
            if len(value) > ANY_TEXT_MAX or not (value.isascii() or storable_text(value)):
                return False
        elif kind is list or kind in _PLAIN_OBJECTS:
            if not _plain_tree_passes(value, depth + 1):
                return False
        elif kind not in _PLAIN_SCALARS:
            return False
    return True


def _check_metadata(metadata: object) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, Mapping) or len(metadata) > METADATA_KEYS:
        raise InvalidCustomer(f"metadata is not an object of at most {METADATA_KEYS} keys")
    for key, value in metadata.items():
        if not (isinstance(key, str) and 0 < len(key) <= METADATA_KEY_MAX):
            raise InvalidCustomer(f"a metadata key is not text of 1-{METADATA_KEY_MAX} characters")
        if not (isinstance(value, str) and len(value) <= METADATA_VALUE_MAX):
            raise InvalidCustomer(
                f"metadata {key!r} is not text of at most {METADATA_VALUE_MAX} characters"
            )


def storable_customers(objects: list) -> tuple[list, list[str]]:
    """The objects of an import page that pass ``check_customer``, and why each of
    the others does not: one bad customer must not stop the import of the rest."""
    kept, reasons = [], []
    for obj in objects:
        try:
            kept.append(check_customer(obj))
        except InvalidCustomer as error:
            reasons.append(str(error))
    return kept, reasons


def check_customer(obj: object, *, now: float | None = None) -> Mapping:
    """``obj`` unchanged when it is a customer this app can store; otherwise raise
    ``InvalidCustomer`` saying which field is wrong."""
    if not isinstance(obj, Mapping):
        raise InvalidCustomer("it is not an object")
    stripe_id = obj.get("id")
    if not (isinstance(stripe_id, str) and _ID.fullmatch(stripe_id)):
        raise InvalidCustomer("its id is not 1-255 printable characters")
    if obj.get("object", "customer") != "customer":
        raise InvalidCustomer(f"{stripe_id} is not a customer object")
    if "deleted" in obj and not isinstance(obj["deleted"], bool):
        raise InvalidCustomer(f"{stripe_id}: 'deleted' is not true or false")
    if not (type(obj) in _PLAIN_OBJECTS and _plain_tree_passes(obj, 1)):
        _check_tree(obj)
    if obj.get("deleted") and "created" not in obj:
        return obj  # a deletion stub: nothing but the id is stored from it
    if not in_created_range(obj.get("created"), now):
        raise InvalidCustomer(
            f"{stripe_id}: created {obj.get('created')!r} is not a time between "
            "2009-01-01 and tomorrow"
        )
    for name, limit in TEXT_MAX.items():
        value = obj.get(name)
        if value is not None and not (isinstance(value, str) and len(value) <= limit):
            raise InvalidCustomer(
                f"{stripe_id}: {name} is not text of at most {limit:,} characters"
            )
    _check_metadata(obj.get("metadata"))
    return obj
