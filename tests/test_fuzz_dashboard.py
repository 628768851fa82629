"""Hypothesis fuzzes every dashboard route of the URL map (issue 10, item 15): path
arguments, query strings and form fields of strings, integers and Unicode, as the
logged-in owner, with and without the CSRF token: no answer is ever a 5xx.

One test id per route, so a route added later is fuzzed without anyone remembering
to; a fixed, small number of examples per route keeps the whole run to seconds.
(The API is fuzzed from its OpenAPI document in tests/test_api_schema.py.)"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.api_token import ApiToken
from models.import_run import ImportRun
from tests.conftest import make_customer
from tests.test_security import RULES

EXAMPLES = 25
# Every name the dashboard reads from a query string or a form, and a stranger.
FIELDS = [
    "page",
    "after",
    "before",
    "q",
    "sync",
    "since",
    "next",
    "state",
    "code",
    "error",
    "decision",
    "name",
    "email",
    "scope",
    "x",
]
HOSTILE = [
    "99999999999999999999",
    "-99999999999999999999",
    "9223372036854775808",
    "-1",
    "0",
    "1.5",
    "1e20",
    "\x00",
    "a\x00b",
    "\r\nX: y",
    '"',
    "NEAR(",
    "*",
    "%",
    "\u202emoc.live@nimda",
    "\U0001d518\U0001d52b\U0001d526",  # mathematical letters, outside the BMP
    "1.99999999999999999999",
    "99999999999999999999.1",
    "x" * 5000,
]
# Text a client can send: no lone surrogates, which have no UTF-8 form for the URL.
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
_value = st.one_of(
    _text,
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(HOSTILE),
)
_fields = st.dictionaries(st.sampled_from(FIELDS), _value, max_size=5)
_segment = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["1", "2", "3", "99999999999999999999"]),
    _text.filter(lambda s: s and "/" not in s and s not in (".", "..")),
)

DASHBOARD = [
    pytest.param(rule, id=f"{rule.endpoint}:{rule.rule}")
    for rule in RULES
    if rule.endpoint != "static" and not rule.endpoint.startswith("api.")
]


def _fill(rule, segments: list[str]) -> str:
    """The rule's path with each ``<converter:name>`` replaced by a fuzzed segment."""
    path, parts = rule.rule, iter(segments)
    while "<" in path:
        start = path.index("<")
        path = path[:start] + next(parts) + path[path.index(">", start) + 1 :]
    return path


@pytest.fixture
def rows(owner, business):
    """A row of every kind a URL names, so small ids reach real rows too."""
    make_customer(business)
    ImportRun.create(business=business, status="succeeded")
    ApiToken.issue(owner, business, "fuzz", "read_write")


@pytest.mark.parametrize("rule", DASHBOARD)
def test_no_dashboard_answer_is_a_server_error(app, client, logged_in, rows, rule):
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})

    @given(
        method=st.sampled_from(methods),
        segments=st.lists(_segment, min_size=len(rule.arguments), max_size=len(rule.arguments)),
        query=_fields,
        form=_fields,
        with_token=st.booleans(),
        htmx=st.booleans(),
    )
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # the same examples every run: a failure is a change
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def request(method, segments, query, form, with_token, htmx):
        data = {**form, "csrf_token": logged_in} if with_token else form
        headers = {"HX-Request": "true"} if htmx else {}
        path = _fill(rule, segments)
        response = client.open(path, method=method, query_string=query, data=data, headers=headers)
        assert response.status_code < 500, (method, path, query, form)

    request()
