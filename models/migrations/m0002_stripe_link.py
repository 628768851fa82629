"""The Stripe Connect link of a business, and the columns that order Stripe's data."""

from playhouse.migrate import IntegerField, migrate

STATEMENTS = [
    """CREATE TABLE stripe_account (
        id INTEGER PRIMARY KEY,
        business_id INTEGER NOT NULL UNIQUE REFERENCES business (id) ON DELETE CASCADE,
        account_id TEXT NOT NULL,
        livemode INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'connected',
        connected_at TEXT NOT NULL,
        disconnected_at TEXT,
        disconnect_reason TEXT)""",
    # A Stripe account feeds one business at a time; webhooks route through this index.
    """CREATE UNIQUE INDEX stripe_account_live ON stripe_account (account_id)
        WHERE status = 'connected'""",
]
POSTGRES_BOOLEANS = ("livemode",)
# up() adds the version columns through the migrator; Postgres runs the same as SQL.
POSTGRES_STATEMENTS = [
    *STATEMENTS,
    "ALTER TABLE customer ADD COLUMN stripe_version_at INTEGER",
    "ALTER TABLE customer ADD COLUMN stripe_version_source INTEGER",
]


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
    migrate(
        migrator.add_column("customer", "stripe_version_at", IntegerField(null=True)),
        migrator.add_column("customer", "stripe_version_source", IntegerField(null=True)),
    )
