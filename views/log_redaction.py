"""Secrets never reach a log line: one ``redact`` for every logger of the process.

What a request can carry that must not be written down: the OAuth callback's
``code`` and ``state``, an API token in a query string, in ``Authorization: Bearer``
or as a Basic-auth user (gunicorn logs that user), and Stripe keys or signing secrets
pasted anywhere. Redaction happens when a log record is created, so it covers the
app's loggers, werkzeug's request lines and gunicorn's access log alike, whatever
handler or format later writes them.
"""

from __future__ import annotations

import logging
import re

MASK = "[redacted]"

# Query or form parameters whose value is a secret, in any text that holds a URL, also
# percent-encoded inside another parameter (the login page's ``next=``).
_PARAMETERS = re.compile(
    r"(?i)((?:^|[?&;\s\"']|%26|%3F)(?:code|state|token|access_token|refresh_token|api_key|"
    r"key|secret|client_secret|password|csrf_token)(?:=|%3D))(?:(?!%26)[^&\s\"';])*"
)
# Credentials after an HTTP auth scheme.
_AUTH_SCHEMES = re.compile(r"(?i)\b(Bearer|Basic|Token)(\s+|%20|\+)[A-Za-z0-9._~+/=%-]+")
# Secrets recognisable by their prefix: ours (shai_), Stripe's keys, restricted keys,
# webhook secrets and OAuth codes.
_PREFIXED = re.compile(r"\b(shai_|sk_live_|sk_test_|rk_live_|rk_test_|whsec_|ac_)[A-Za-z0-9_-]+")


def redact(text: str) -> str:
    """``text`` with every secret it shows replaced by ``[redacted]``."""
    text = _PARAMETERS.sub(lambda m: m.group(1) + MASK, text)
    text = _AUTH_SCHEMES.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    return _PREFIXED.sub(lambda m: m.group(1) + MASK, text)


def install() -> None:
    """Redact every log record of this process as it is made (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "redacts", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = current(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: let the handler report it
            return record
        record.msg, record.args = redact(message), None
        return record

    factory.redacts = True
    logging.setLogRecordFactory(factory)
