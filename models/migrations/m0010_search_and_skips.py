"""Search scoped by business (see models/customer_search.py for the design and its
measurements): ``customer_search`` replaces 0007's ``customer_fts``, whose postings
held every business's rows together, so a search's time revealed how many of other
businesses' customers matched. Each indexed term carries the business id; the terms
cover name, email, and the phone and metadata values of ``stripe_object``, with
unigrams and bigrams for 1-2 character searches. Kept in step by triggers calling
``customer_search_terms()``, registered on every connection by models.customer_search.

Also ``import_run.skipped`` and ``skipped_reason``: customers of an import page that
failed sync/customer_input.py's checks are skipped, counted and explained there.
"""

from models.customer_search import TERMS_FUNCTION

_COLUMNS = ("business_id", "name", "email", "stripe_object")


def _index(row: str, delete: bool) -> str:
    terms = f"{TERMS_FUNCTION}({', '.join(f'{row}.{column}' for column in _COLUMNS)})"
    if delete:
        return (
            "INSERT INTO customer_search (customer_search, rowid, terms)"
            f" VALUES ('delete', {row}.id, {terms});"
        )
    return f"INSERT INTO customer_search (rowid, terms) VALUES ({row}.id, {terms});"


STATEMENTS = [
    "DROP TRIGGER IF EXISTS customer_fts_insert",
    "DROP TRIGGER IF EXISTS customer_fts_delete",
    "DROP TRIGGER IF EXISTS customer_fts_update",
    "DROP TABLE IF EXISTS customer_fts",
    """CREATE VIRTUAL TABLE customer_search USING fts5(
        terms, content='', tokenize='ascii', detail='full')""",
    f"INSERT INTO customer_search (rowid, terms) SELECT id, {TERMS_FUNCTION}({', '.join(_COLUMNS)})"
    " FROM customer",
    f"CREATE TRIGGER customer_search_insert AFTER INSERT ON customer BEGIN {_index('NEW', False)}"
    " END",
    f"CREATE TRIGGER customer_search_delete AFTER DELETE ON customer BEGIN {_index('OLD', True)}"
    " END",
    "ALTER TABLE import_run ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE import_run ADD COLUMN skipped_reason TEXT",
    f"""CREATE TRIGGER customer_search_update
        AFTER UPDATE OF business_id, name, email, stripe_object ON customer BEGIN
        {_index("OLD", True)} {_index("NEW", False)} END""",
]


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)


# Postgres: the same fields searched through pg_trgm, and scoped by business inside the
# index (btree_gin puts business_id beside the trigrams), replacing 0007's index over
# every business's name and email. models/customer_search_postgres.py's SEARCH_TEXT is
# this index's expression, or the index is not used.
POSTGRES_STATEMENTS = [
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    # jsonb holds no NUL, which Stripe's JSON may escape as \u0000: dropped first.
    # Calls are schema-qualified: VACUUM and ANALYZE evaluate index expressions with a
    # search_path of pg_catalog only.
    """CREATE FUNCTION customer_search_object(stripe_object text) RETURNS jsonb
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT replace(stripe_object, '\\u0000', '')::jsonb $$""",
    """CREATE FUNCTION customer_search_text(name text, email text, stripe_object text)
        RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce(name, '') || chr(1) || coalesce(email, '') || chr(1)
            || coalesce(public.customer_search_object(stripe_object) ->> 'phone', '') || chr(1)
            || coalesce((SELECT string_agg(value, chr(1)) FROM jsonb_each_text(
                CASE WHEN jsonb_typeof(public.customer_search_object(stripe_object) -> 'metadata')
                    = 'object'
                THEN public.customer_search_object(stripe_object) -> 'metadata'
                ELSE '{}'::jsonb END)), '')
        $$""",
    "DROP INDEX IF EXISTS customer_search",
    """CREATE INDEX customer_search ON customer
        USING gin (business_id,
            public.customer_search_text(name, email, stripe_object) gin_trgm_ops)""",
    "ALTER TABLE import_run ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE import_run ADD COLUMN skipped_reason TEXT",
]
