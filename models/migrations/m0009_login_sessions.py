"""Server-side login sessions: the session cookie names a row here, so logging out,
changing the password or "Log out everywhere" end a session for good, even for a
copy of the cookie taken before. Only a hash of the cookie's secret is stored."""

STATEMENTS = [
    """CREATE TABLE login_session (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL)""",
    "CREATE INDEX login_session_user ON login_session (user_id)",
]


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
