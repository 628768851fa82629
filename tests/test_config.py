"""Configuration: every DEFAULTS key can be set by an environment variable."""

import pytest

from app import DEFAULTS, create_app


@pytest.fixture
def make_app(tmp_path, monkeypatch):
    def make(**environment):
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        return create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test-secret-key",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
            }
        )

    return make


def test_environment_overrides_defaults(make_app):
    app = make_app(IMPORT_WORKERS="4", IMPORT_RESUME_ON_START="0", PUBLIC_URL="https://x.test")
    assert app.config["IMPORT_WORKERS"] == "4"
    assert app.config["IMPORT_RESUME_ON_START"] is False
    assert app.config["PUBLIC_URL"] == "https://x.test"


def test_without_stripe_keys_the_sandbox_is_used(make_app):
    app = make_app()
    assert app.config["STRIPE_SANDBOX"] is True
    assert app.config["STRIPE_SECRET_KEY"] == "sk_test_sandbox"
    assert app.config["STRIPE_API_BASE"] == DEFAULTS["STRIPE_SANDBOX_URL"]
