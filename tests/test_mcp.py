"""The MCP server, driven the way an agent's MCP client drives it: mcp's stdio
client launches ``flask mcp`` as a subprocess on this test's SQLite file and talks
to it through a ClientSession."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from models import Customer
from models.api_token import READ_ONLY, ApiToken
from models.stripe_account import StripeAccount
from models.stripe_object import pack
from tests.api_support import issue_token
from tests.conftest import make_customer

ROOT = Path(__file__).resolve().parents[1]
TOOLS = {"list_customers", "get_customer", "create_customer", "sync_status"}


@pytest.fixture
def server_env(app) -> dict[str, str]:
    """What the server process needs to open this test's database."""
    return {
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "PUBLIC_URL": "http://127.0.0.1",
        "PYTHONPATH": str(ROOT),
    }


def run_session(env: dict[str, str], script, *args: str):
    """Start the server with ``env`` and run ``script(session)`` against it."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "flask", "--app", "app", "mcp", *args],
        env=env,
        cwd=ROOT,
    )

    async def main():
        with open(os.devnull, "w") as errlog:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write, read_timeout_seconds=30) as session,
            ):
                await session.initialize()
                return await script(session)

    # Its own thread: after a browser test, Playwright's sync API keeps an asyncio loop
    # running in this worker's main thread, and anyio.run refuses to nest in it.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, main).result()


def start_and_wait(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Start the server with nothing on stdin, for the cases where it must not start."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "mcp", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def payload(result) -> dict:
    assert not result.is_error, result.content
    return result.structured_content or json.loads(result.content[0].text)


def error_text(result) -> str:
    """The message of a tool error, after the SDK's "Error executing tool <name>: "."""
    assert result.is_error
    prefix, _, message = result.content[0].text.partition(": ")
    assert prefix.startswith("Error executing tool ")
    return message


def test_tools_list_read_and_create(server_env, owner, business):
    direct = make_customer(business, name="Dora", email="dora@example.com", customer_since=1)
    synced = make_customer(business, email="syd@example.com", stripe_customer_id="cus_1")
    server_env["SHINGLEAI_API_TOKEN"] = issue_token(owner, business)

    async def script(session):
        tools = {tool.name for tool in (await session.list_tools()).tools}
        listed = payload(await session.call_tool("list_customers", {"sync": "synced"}))
        one = payload(await session.call_tool("get_customer", {"customer_id": direct.id}))
        made = payload(
            await session.call_tool("create_customer", {"name": "Nia", "email": "nia@example.com"})
        )
        searched = payload(await session.call_tool("list_customers", {"q": "nia"}))
        return tools, listed, one, made, searched

    tools, listed, one, made, searched = run_session(server_env, script)
    assert tools == TOOLS
    assert [row["id"] for row in listed["data"]] == [synced.id]
    assert listed["has_more"] is False and listed["next_cursor"] is None
    assert one["email"] == "dora@example.com" and one["synced"] is False
    assert made["name"] == "Nia" and made["synced"] is False and made["stripe_customer_id"] is None
    assert Customer.get_by_id(made["id"]).business_id == business.id
    assert [row["id"] for row in searched["data"]] == [made["id"]]


def test_cursor_pages_through_every_row(server_env, owner, business):
    for i in range(5):
        make_customer(business, email=f"c{i}@example.com", customer_since=1_700_000_000 + i)
    server_env["SHINGLEAI_API_TOKEN"] = issue_token(owner, business)

    async def script(session):
        emails, cursor = [], None
        while True:
            arguments = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = payload(await session.call_tool("list_customers", arguments))
            emails += [row["email"] for row in page["data"]]
            if not page["has_more"]:
                return emails
            cursor = page["next_cursor"]

    assert run_session(server_env, script) == [f"c{i}@example.com" for i in reversed(range(5))]


def test_errors_come_back_as_tool_errors_with_the_api_messages(server_env, owner, business):
    existing = make_customer(business, email="ada@example.com")
    server_env["SHINGLEAI_API_TOKEN"] = issue_token(owner, business)

    async def script(session):
        return [
            await session.call_tool("create_customer", {"name": " ", "email": "x@example.com"}),
            await session.call_tool("create_customer", {"name": "X", "email": "nope"}),
            await session.call_tool("create_customer", {"name": "A", "email": "ADA@example.com"}),
            await session.call_tool("get_customer", {"customer_id": 999_999}),
            await session.call_tool("list_customers", {"sync": "everything"}),
            await session.call_tool("list_customers", {"cursor": "garbage"}),
        ]

    blank, bad_email, duplicate, missing, bad_sync, bad_cursor = run_session(server_env, script)
    assert error_text(blank) == "Enter a name."
    assert error_text(bad_email) == "Enter an email address like name@example.com."
    assert error_text(duplicate) == f"Customer {existing.id} already has this email address."
    assert error_text(missing) == "No customer with id 999999."
    assert bad_sync.is_error
    assert error_text(bad_cursor) == "This cursor is not one the API gave out."
    assert Customer.select().count() == 1


def test_idempotency_key_replays_and_is_shared_with_the_api(server_env, owner, business, client):
    secret = issue_token(owner, business)
    server_env["SHINGLEAI_API_TOKEN"] = secret
    ada = {"name": "Ada", "email": "ada@example.com"}

    async def script(session):
        first = await session.call_tool("create_customer", {**ada, "idempotency_key": "k1"})
        again = await session.call_tool("create_customer", {**ada, "idempotency_key": "k1"})
        other = await session.call_tool(
            "create_customer", {"name": "Bo", "email": "bo@example.com", "idempotency_key": "k1"}
        )
        return payload(first), payload(again), other

    first, again, other = run_session(server_env, script)
    assert first == again
    assert "only be used with the same parameters" in error_text(other)
    api = client.post(
        "/api/v1/customers",
        json=ada,
        headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": "k1"},
    )
    assert api.status_code == 201 and api.get_json() == first
    assert Customer.select().count() == 1


def test_sync_status_reports_stripe_and_counts(server_env, owner, business):
    make_customer(business, email="d@example.com")
    make_customer(business, email="s@example.com", stripe_customer_id="cus_1")
    server_env["SHINGLEAI_API_TOKEN"] = issue_token(owner, business)

    async def script(session):
        return payload(await session.call_tool("sync_status", {}))

    status = run_session(server_env, script)
    assert status["stripe"] == {"linked": False, "state": "not_linked"}
    assert status["customers"] == {"synced": 1, "not_synced": 1, "deleted": 0, "total": 2}
    assert status["last_import"] is None and status["last_webhook"] is None

    account = StripeAccount.create(business=business, account_id="acct_1")
    account.mark_disconnected("Revoked in Stripe")
    status = run_session(server_env, script)
    assert status["stripe"]["linked"] is False
    assert status["stripe"]["state"] == "disconnected"
    assert status["stripe"]["account_id"] == "acct_1"
    assert status["stripe"]["disconnect_reason"] == "Revoked in Stripe"


def test_read_only_token_cannot_create(server_env, owner, business):
    server_env["SHINGLEAI_API_TOKEN"] = issue_token(owner, business, scope=READ_ONLY)

    async def script(session):
        listed = await session.call_tool("list_customers", {})
        made = await session.call_tool("create_customer", {"name": "A", "email": "a@example.com"})
        return listed, made

    listed, made = run_session(server_env, script)
    assert not listed.is_error
    assert "read only" in error_text(made)
    assert Customer.select().count() == 0


def test_revoking_the_token_stops_a_running_server(server_env, owner, business):
    secret = issue_token(owner, business)

    async def script(session):
        before = await session.call_tool("list_customers", {})
        token = ApiToken.get(ApiToken.business == business)
        ApiToken.revoke(business, token.id)
        after = await session.call_tool("list_customers", {})
        return before, after

    before, after = run_session(server_env, script, "--token", secret)
    assert not before.is_error
    assert error_text(after) == "This API token has been revoked."


@pytest.mark.parametrize(
    "token, message",
    [
        (None, "Pass --token or set SHINGLEAI_API_TOKEN"),
        ("shai_nope", "Not starting the MCP server: This API token does not exist."),
        ("not-a-token", "Not starting the MCP server: Send a valid API token"),
    ],
)
def test_server_refuses_to_start_without_a_valid_token(server_env, owner, token, message):
    env = {**os.environ, **server_env}
    env.pop("SHINGLEAI_API_TOKEN", None)
    if token:
        env["SHINGLEAI_API_TOKEN"] = token
    done = start_and_wait(env)
    assert done.returncode != 0
    assert message in done.stderr
    assert done.stdout == ""


def test_revoked_token_refuses_to_start(server_env, owner, business):
    secret = issue_token(owner, business)
    ApiToken.revoke(business, ApiToken.get().id)
    done = start_and_wait({**os.environ, **server_env}, "--token", secret)
    assert done.returncode != 0
    assert "This API token has been revoked." in done.stderr


def test_get_customer_returns_the_stripe_object_and_stripe_customer_id(server_env, owner, business):
    obj = {"id": "cus_1", "object": "customer", "created": 1, "phone": "+1 555 0100"}
    synced = make_customer(business, stripe_customer_id="cus_1", stripe_object=pack(obj))
    server_env["SHINGLEAI_API_TOKEN"] = issue_token(owner, business)

    async def script(session):
        one = payload(await session.call_tool("get_customer", {"customer_id": synced.id}))
        lean = payload(await session.call_tool("list_customers", {}))
        full = payload(await session.call_tool("list_customers", {"expand": "stripe"}))
        return one, lean, full

    one, lean, full = run_session(server_env, script)
    assert one["stripeCustomerId"] == one["stripe_customer_id"] == "cus_1"
    assert one["stripe"] == obj
    assert "stripe" not in lean["data"][0] and lean["data"][0]["stripeCustomerId"] == "cus_1"
    assert full["data"][0]["stripe"] == obj


def test_the_readme_one_liner_needs_no_secret_key_or_demo(server_env, owner, business):
    """README: ``SHINGLEAI_API_TOKEN=shai_… .venv/bin/flask --app app mcp``. The MCP
    server signs no session, so the built-in SECRET_KEY must not stop it (the database
    path is passed as the README's client configuration does)."""
    make_customer(business, name="Dora", email="dora@example.com")
    env = {key: server_env[key] for key in ("DATABASE_URL", "PYTHONPATH")}
    env["PATH"] = os.environ.get("PATH", "")
    env["SHINGLEAI_API_TOKEN"] = issue_token(owner, business)
    assert "SECRET_KEY" not in env and "DEMO" not in env

    async def script(session):
        return payload(await session.call_tool("list_customers", {}))

    assert [row["email"] for row in run_session(env, script)["data"]] == ["dora@example.com"]
