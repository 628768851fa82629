"""Fencing by link generation: the link counts its attaches (connect, reconnect,
switch), import runs record the account and generation they were queued for, and a
Connect attempt holding a switch records the generation of the link the owner was
asked about. Existing links start at generation 1; runs that may still resume are
assigned to the business's current link (the only one they can have been made for
since its last attach, which is all the history there is)."""

STATEMENTS = [
    "ALTER TABLE stripe_account ADD COLUMN generation INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE import_run ADD COLUMN account_id TEXT",
    "ALTER TABLE import_run ADD COLUMN generation INTEGER",
    "ALTER TABLE connect_attempt ADD COLUMN link_generation INTEGER",
    "UPDATE import_run SET"
    " account_id = (SELECT s.account_id FROM stripe_account s"
    " WHERE s.business_id = import_run.business_id),"
    " generation = (SELECT s.generation FROM stripe_account s"
    " WHERE s.business_id = import_run.business_id)"
    " WHERE status <> 'succeeded'",
]


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
