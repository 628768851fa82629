"""Fixtures and steps shared by the support console's tests (a module imports the
``*_fixture`` functions to use the fixtures ``link``, ``console`` and ``csrf``)."""

from __future__ import annotations

import json

import pytest

from models import StripeAccount
from models.webhook_event import FAILED, WebhookEvent
from sync import webhooks
from tests.conftest import wait_until
from tests.webhooks_support import ACCOUNT, make_event, webhook_app


def console_app(tmp_path):
    return webhook_app(tmp_path, PUBLIC_URL="https://shingle.example/")


@pytest.fixture(name="link")
def link_fixture(business) -> StripeAccount:
    return StripeAccount.attach(business, ACCOUNT, livemode=False)


@pytest.fixture(name="console")
def console_fixture(support_client):
    """The support staff's test client."""
    return support_client[0]


@pytest.fixture(name="csrf")
def csrf_fixture(support_client):
    return support_client[1]


def text(response) -> str:
    return response.get_data(as_text=True)


def failed_event(obj: dict, kind: str = "customer.created") -> WebhookEvent:
    """An event whose delivery failed, recorded as the webhook path records one."""
    event = make_event(kind, obj)
    webhooks._record(
        event, json.dumps(event).encode(), outcome=FAILED, error="Database unavailable: locked"
    )
    return wait_until(
        lambda: WebhookEvent.get_or_none(WebhookEvent.event_id == event["id"]),
        message="the failure being recorded",
    )
