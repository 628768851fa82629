"""The support console's tables.

- ``user.role``: ``owner`` (the default) or ``support``; support staff have no business.
- ``audit_log``: every support action (and every removal of a customer), append-only:
  triggers refuse UPDATE and DELETE, so not even a bug in the app can rewrite history.
  Who and which business are copied as text as well as ids, so an entry still reads
  right after the user or business is gone (hence no foreign keys).
- ``link_event``: the history of a business's Stripe link (connects, reconnects,
  switches, disconnections), written from now on by ``StripeAccount``; backfilled
  from each existing link's last connect and disconnection.
- ``removed_customer``: Stripe ids of customers removed after their deletion in
  Stripe, so a late or replayed event never brings the row back.
- Two ``webhook_event`` indexes: the console's platform-wide counts (by time) and a
  business's events that were never routed to it (by account).
"""

APPEND_ONLY = "audit_log is append-only: entries cannot be changed or deleted"

STATEMENTS = [
    "ALTER TABLE user ADD COLUMN role TEXT NOT NULL DEFAULT 'owner'",
    """CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor_id INTEGER NOT NULL,
        actor_email TEXT NOT NULL,
        actor_role TEXT NOT NULL,
        action TEXT NOT NULL,
        business_id INTEGER,
        business_name TEXT,
        summary TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '{}')""",
    "CREATE INDEX audit_log_business ON audit_log (business_id, id)",
    f"""CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
    f"""CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
    """CREATE TABLE link_event (
        id INTEGER PRIMARY KEY,
        business_id INTEGER NOT NULL REFERENCES business (id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        account_id TEXT NOT NULL,
        previous_account_id TEXT,
        reason TEXT,
        backfilled INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX link_event_business ON link_event (business_id, at)",
    "CREATE INDEX link_event_account ON link_event (account_id)",
    """INSERT INTO link_event (business_id, at, kind, account_id, backfilled)
        SELECT business_id, connected_at, 'connected', account_id, 1 FROM stripe_account""",
    """INSERT INTO link_event (business_id, at, kind, account_id, reason, backfilled)
        SELECT business_id, disconnected_at,
            CASE disconnect_reason
                WHEN 'You disconnected Stripe.' THEN 'disconnected'
                WHEN 'Access was revoked in Stripe' THEN 'revoked'
                ELSE 'refused' END,
            account_id, disconnect_reason, 1
        FROM stripe_account WHERE status = 'disconnected' AND disconnected_at IS NOT NULL""",
    """CREATE TABLE removed_customer (
        business_id INTEGER NOT NULL REFERENCES business (id) ON DELETE CASCADE,
        stripe_customer_id TEXT NOT NULL,
        removed_at TEXT NOT NULL,
        PRIMARY KEY (business_id, stripe_customer_id))""",
    "CREATE INDEX webhook_event_received ON webhook_event (received_at, outcome)",
    "CREATE INDEX webhook_event_account ON webhook_event (account_id, received_at)",
]


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)


# Postgres: the same tables, with a plpgsql trigger function refusing changes, a real
# TIMESTAMP for ``at`` and a BOOLEAN ``backfilled``.
_PG_APPEND_ONLY = f"""CREATE FUNCTION audit_log_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
        RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'integrity_constraint_violation';
    END $$"""
POSTGRES_BOOLEANS = ("backfilled",)
POSTGRES_STATEMENTS = [
    statement.replace("at TEXT NOT NULL", "at TIMESTAMP NOT NULL")
    .replace("account_id, 1 FROM", "account_id, true FROM")
    .replace("disconnect_reason, 1\n", "disconnect_reason, true\n")
    for statement in STATEMENTS
    if "CREATE TRIGGER" not in statement
] + [
    _PG_APPEND_ONLY,
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
]
