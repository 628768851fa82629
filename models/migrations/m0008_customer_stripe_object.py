"""Every synced customer keeps Stripe's whole customer object (JSON text), under the
same ordering rule as the list's fields: the newest version wins, and a deleted row
keeps the last object it was known by. NULL until the row's next import, webhook or
reconciliation brings the object (and always for rows created directly in ShingleAI)."""

STATEMENTS = ["ALTER TABLE customer ADD COLUMN stripe_object TEXT"]


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
