"""Search that costs only the caller's own data (issue 10, items 16 and 17), with
index paths for 1-2 character terms, a statement time limit answered as a clear note,
and matches in the phone and metadata values of Stripe's customer object."""

from __future__ import annotations

import json

import pytest
from peewee import SQL

from models import Business, Customer, User, customer_search_postgres
from models.customer_list import list_page
from models.customer_search import match_expression, matching_ids
from models.db import StatementTimeout, db, execute, is_postgres, statement_time_limit
from models.demo import seed_customers
from tests.api_support import api_fixture, assert_error, secret_fixture  # noqa: F401
from tests.conftest import make_customer


@pytest.fixture
def rival(app) -> Business:
    return Business.primary_for(User.create_owner("rival@example.com", "rival pass", "Rival"))


def _add(business, names: list[str], **fields) -> list[int]:
    rows = [
        {
            "business": business.id,
            "name": n,
            "email": f"x{i}@e.test",
            "customer_since": 1_700_000_000,
            **fields,
        }
        for i, n in enumerate(names)
    ]
    with db.atomic():
        for start in range(0, len(rows), 500):
            Customer.insert_many(rows[start : start + 500]).execute()
    return [c.id for c in Customer.for_business(business).order_by(Customer.id)][-len(names) :]


def _postings(expression: str) -> int:
    """How many rows the index holds under the terms a MATCH reads: the work a search
    does before anything is filtered (fts5vocab counts a term's documents)."""
    db.execute_sql(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab"
        " USING fts5vocab(main, customer_search, row)"
    )
    terms = expression.strip('"').split()
    placeholders = ", ".join("?" for _ in terms)
    rows = db.execute_sql(
        f"SELECT sum(doc) FROM temp.search_vocab WHERE term IN ({placeholders})", terms
    )
    return rows.fetchone()[0] or 0


@pytest.mark.sqlite_only  # reads FTS5's own vocabulary (Postgres: tests/test_postgres_plans.py)
@pytest.mark.parametrize("q", ["probe", "pr", "p"], ids=["trigrams", "bigram", "unigram"])
def test_a_search_reads_only_the_callers_postings(business, rival, q):
    """The rival's 600 matches add nothing to what the owner's search reads, so its
    time cannot say how many of them there are."""
    _add(business, ["probe one", "probe two"])
    before = _postings(match_expression(business.id, q))
    _add(rival, [f"probe {i}" for i in range(600)])
    assert _postings(match_expression(business.id, q)) == before
    assert sorted(matching_ids(business.id, q)) == [
        c.id for c in Customer.for_business(business).order_by(Customer.id)
    ]
    assert len(matching_ids(rival.id, q)) == 600


@pytest.mark.sqlite_only  # FTS5's vocabulary; on Postgres business_id leads the GIN index
def test_every_index_term_belongs_to_one_business(business, rival):
    make_customer(business, name="Ada")
    make_customer(rival, name="Ada")
    db.execute_sql(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab"
        " USING fts5vocab(main, customer_search, row)"
    )
    terms = [row[0] for row in db.execute_sql("SELECT term FROM temp.search_vocab")]
    owners = {term.split("z", 1)[0] for term in terms if term != "zz"}
    assert owners == {str(business.id), str(rival.id)}


@pytest.mark.parametrize("q", ["Ø", "qz", "#", "ö"], ids=["Ø", "qz", "#", "ö"])
def test_a_rare_short_search_is_exact_and_counted(business, q):
    seed_customers(business.id, 300)
    wanted = _add(business, [f"Jørgen {q}", f"{q.upper()}-rated"])
    result = list_page(business.id, q=q)
    assert sorted(row.id for row in result.rows) == sorted(wanted)
    assert result.total == 2


@pytest.mark.parametrize(
    ("stripe_object", "q"),
    [
        ({"phone": "+1 (555) 010-9999"}, "010-99"),
        ({"phone": "+44 20 7946 0018"}, "7946"),
        ({"metadata": {"plan": "Platinum Gold", "crm": "HS-4471"}}, "hs-447"),
        ({"metadata": {"plan": "Platinum Gold"}}, "platinum"),
        ({"metadata": {"note": "vip"}}, "vi"),
    ],
    ids=["phone digits", "phone spaces", "metadata id", "metadata word", "metadata short"],
)
def test_search_matches_phone_and_metadata_values(business, stripe_object, q):
    wanted = make_customer(business, name="Plain Name", email="plain@example.com")
    make_customer(business, name="Other", email="other@example.com")
    Customer.update(stripe_object=json.dumps({"id": "cus_1", **stripe_object})).where(
        Customer.id == wanted.id
    ).execute()
    assert [row.id for row in list_page(business.id, q=q).rows] == [wanted.id]


def test_metadata_keys_and_other_fields_are_not_searched(business):
    customer = make_customer(business, name="Plain")
    obj = {"id": "cus_secretid", "metadata": {"keyword": "x"}, "address": {"city": "Oslo"}}
    Customer.update(stripe_object=json.dumps(obj)).where(Customer.id == customer.id).execute()
    for q in ("keyword", "oslo", "secretid"):
        assert list_page(business.id, q=q).rows == [], q


def test_a_frequent_search_walking_the_list_also_matches_phone_and_metadata(business, monkeypatch):
    monkeypatch.setattr("models.customer_search.EXACT_LIMIT", 2)
    ids = _add(business, ["a", "b", "c"], stripe_object=json.dumps({"metadata": {"t": "Gold"}}))
    result = list_page(business.id, q="gold")
    assert result.total is None and sorted(r.id for r in result.rows) == sorted(ids)


def test_a_replaced_stripe_object_leaves_the_index(business):
    customer = make_customer(business, name="Plain")
    Customer.update(stripe_object='{"phone": "555-0101"}').where(
        Customer.id == customer.id
    ).execute()
    Customer.update(stripe_object='{"phone": "555-0202"}').where(
        Customer.id == customer.id
    ).execute()
    assert list_page(business.id, q="0101").rows == []
    assert [r.id for r in list_page(business.id, q="0202").rows] == [customer.id]


@pytest.mark.sqlite_only  # Postgres indexes stripe_object as jsonb: only pack() writes it
def test_unreadable_stripe_objects_do_not_break_search(business):
    customer = make_customer(business, name="Plain")
    Customer.update(stripe_object="{not json").where(Customer.id == customer.id).execute()
    assert [r.id for r in list_page(business.id, q="pla").rows] == [customer.id]


def test_statement_time_limit_stops_a_long_statement_and_then_lets_go(app):
    with db.connection_context():
        count = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
        with pytest.raises(StatementTimeout), statement_time_limit(5):
            execute(count + " SELECT count(*) FROM n", (10**9,)).fetchone()
        assert execute(count + " SELECT count(*) FROM n", (10**5,)).fetchone() == (10**5,)


@pytest.fixture
def slow_app(app, monkeypatch):
    """Every walk over the list is past its time limit at once. Postgres's limit is
    whole milliseconds (at least 1), which a 200-row walk can beat, so there each row
    checked also waits a millisecond."""
    app.config["LIST_TIME_LIMIT_MS"] = 0.000001
    monkeypatch.setattr("models.customer_search.EXACT_LIMIT", 5)
    if is_postgres():
        walk = customer_search_postgres.walk_condition
        monkeypatch.setattr(
            customer_search_postgres,
            "walk_condition",
            lambda q: SQL("pg_sleep(0.001) IS NOT NULL") & walk(q),
        )
    return app


def test_a_search_past_its_time_limit_says_refine_it(slow_app, client, logged_in, business):
    seed_customers(business.id, 200)
    response = client.get("/customers", query_string={"q": "test"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This search took too long" in page and "Refine it" in page


def test_an_api_search_past_its_time_limit_is_a_clear_400(slow_app, api, business):
    seed_customers(business.id, 200)
    error = assert_error(
        api.get("/customers", query_string={"q": "test"}), 400, "search_too_slow", "q"
    )
    assert "refine" in error["message"]


def test_the_api_search_uses_the_scoped_index(api, business, rival):
    wanted = make_customer(business, name="Zed", email="zed@example.com")
    Customer.update(stripe_object='{"phone": "+1 555 777"}').where(
        Customer.id == wanted.id
    ).execute()
    make_customer(rival, name="Zed", email="zed@example.com")
    for q in ("zed", "5 7", "Z"):
        data = api.get("/customers", query_string={"q": q}).get_json()["data"]
        assert [row["id"] for row in data] == [wanted.id], q
