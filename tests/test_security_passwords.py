"""Password and email rules wherever an owner's password is set: ``flask
create-owner`` here, the account page's password change in test_security_sessions."""

from __future__ import annotations

import pytest

from models import User
from models.passwords import password_problem


def _create(runner, email: str, password: str):
    return runner.invoke(
        args=["create-owner", "--email", email, "--password", password, "--business", "B"]
    )


@pytest.mark.parametrize(
    ("email", "password", "complaint"),
    [
        ("owner@example.com", "12345678", "at least 12"),
        ("owner@example.com", "short pass", "at least 12"),
        ("owner@example.com", "password1234", "most common"),
        ("owner@example.com", "QWERTY123456", "most common"),
        ("owner@example.com", "aaaaaaaaaaaaaaaa", "most common"),
        ("owner@example.com", "x" * 1025, "at most 1024"),
        ("roofer@example.com", "roofer-is-my-pass", "email address"),
        ("x@y", "a long and unusual passphrase", "like name@example.com"),
        ("not an email", "a long and unusual passphrase", "like name@example.com"),
    ],
    ids=[
        "8-digits",
        "short",
        "common",
        "common-any-case",
        "one-character",
        "too-long",
        "from-email",
        "email-without-domain",
        "not-an-email",
    ],
)
def test_create_owner_refuses_weak_passwords_and_bad_emails(runner, email, password, complaint):
    result = _create(runner, email, password)
    assert result.exit_code != 0 and complaint in result.output
    assert User.select().count() == 0


def test_create_owner_accepts_a_good_password(runner):
    result = _create(runner, "owner@example.com", "a long and unusual passphrase")
    assert result.exit_code == 0, result.output
    assert User.by_email("owner@example.com").check_password("a long and unusual passphrase")


def test_create_owner_prompts_for_the_password_without_echoing_it(runner):
    secret = "typed at a prompt, not in history"
    result = runner.invoke(
        args=["create-owner", "--email", "owner@example.com"], input=f"{secret}\n{secret}\n"
    )
    assert result.exit_code == 0, result.output
    assert secret not in result.output
    assert User.by_email("owner@example.com").check_password(secret)


def test_the_common_list_is_loaded():
    assert password_problem("correct horse battery staple") is not None
    assert password_problem("correct horse battery staple!", "owner@example.com") is None
