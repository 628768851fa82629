"""Users, businesses and customers, with the indexes the Customers list relies on."""

STATEMENTS = [
    """CREATE TABLE user (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL)""",
    """CREATE TABLE business (
        id INTEGER PRIMARY KEY,
        owner_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        is_primary INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL)""",
    "CREATE INDEX business_owner ON business (owner_id)",
    # Exactly one primary business per owner.
    "CREATE UNIQUE INDEX business_one_primary ON business (owner_id) WHERE is_primary",
    """CREATE TABLE customer (
        id INTEGER PRIMARY KEY,
        business_id INTEGER NOT NULL REFERENCES business (id) ON DELETE CASCADE,
        name TEXT,
        email TEXT,
        stripe_customer_id TEXT,
        customer_since INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        deleted_in_stripe_at TEXT)""",
    # Unique within a business; NULLs (direct rows) never collide in SQLite.
    "CREATE UNIQUE INDEX customer_stripe_id ON customer (business_id, stripe_customer_id)",
    # The list order: newest Customer since first, ties broken by id.
    "CREATE INDEX customer_list ON customer (business_id, customer_since DESC, id DESC)",
    "CREATE INDEX customer_email ON customer (business_id, email)",
]
POSTGRES_BOOLEANS = ("is_primary",)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
