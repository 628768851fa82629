"""What makes a password or an owner's email acceptable wherever one is set
(``flask create-owner``, the account page's password change).

Length is what resists guessing; a list of the passwords people pick most often
stops the guesses attackers try first, whatever their length. An upper bound keeps
one login from costing an unbounded hash.
"""

from __future__ import annotations

import functools
from pathlib import Path

from models.customer import is_email

MIN_LENGTH = 12
MAX_LENGTH = 1024
_COMMON = Path(__file__).with_name("common_passwords.txt")


@functools.cache
def _common() -> frozenset[str]:
    lines = _COMMON.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_problem(password: str, email: str = "") -> str | None:
    """Why ``password`` is refused for the owner ``email``, or None if it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in _common() or len(set(lowered)) < 4:
        return "That password is one of the most common: choose another."
    local = email.strip().lower().partition("@")[0]
    if local and len(local) >= 4 and local in lowered:
        return "Do not build the password from your email address."
    return None


def email_problem(email: str) -> str | None:
    """Why ``email`` cannot be an owner's login, or None."""
    if not is_email(email.strip()):
        return "Enter an email address like name@example.com."
    return None
