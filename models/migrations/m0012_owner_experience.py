"""What the owner's pages need to read well: the owner's time zone (detected in the
browser, remembered so every page shows local times), the Stripe account's business
name beside its ``acct_…`` id (on the link and on a switch awaiting confirmation), and
who ended a link ("owner" for the owner's own Disconnect, "stripe" when Stripe cut
it), so the two cases are worded differently."""

STATEMENTS = [
    "ALTER TABLE user ADD COLUMN time_zone TEXT",
    "ALTER TABLE stripe_account ADD COLUMN account_name TEXT",
    "ALTER TABLE stripe_account ADD COLUMN disconnected_by TEXT",
    "ALTER TABLE connect_attempt ADD COLUMN account_name TEXT",
]


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
