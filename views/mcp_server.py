"""The MCP server: the same customer operations as the JSON API, as MCP tools over
stdio, for agents. Start it with ``flask mcp`` (or ``python -m views.mcp_server``)
and an API token in SHINGLEAI_API_TOKEN or ``--token``.

Every tool call re-checks the token, so revoking it on the settings page stops a
running server too; tools refuse what the API refuses, with the same messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import click
from flask.cli import with_appcontext

from models import customer_api
from models.api_errors import ApiError
from models.api_token import ApiToken
from models.db import db
from models.sync_status import sync_status as business_sync_status

TOKEN_ENV = "SHINGLEAI_API_TOKEN"
SyncFilter = Literal["all", "synced", "not_synced", "deleted"]


@contextmanager
def _as_token(secret: str) -> Iterator[ApiToken]:
    """A database connection for this tool call (tools run in worker threads) and
    the live token; API errors become MCP tool errors with the same message."""
    from mcp.server.mcpserver.exceptions import ToolError

    try:
        with db.connection_context():
            yield ApiToken.authenticate(secret)
    except ApiError as error:
        raise ToolError(error.message) from error


def build_server(secret: str):
    """The MCP server (an ``mcp.server.mcpserver.MCPServer``) acting with the token
    ``secret``."""
    # The SDK takes seconds to import: only the `flask mcp` process pays for it.
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    server = MCPServer(
        name="shingleai-customers",
        instructions="Customers of one ShingleAI business. Customers you create are "
        "'not synced': they live in ShingleAI only; Stripe stays authoritative for synced ones.",
    )

    @server.tool()
    def list_customers(
        sync: SyncFilter = "all",
        q: str = "",
        cursor: str | None = None,
        limit: int = 50,
        expand: Literal["stripe"] | None = None,
    ) -> dict:
        """List customers, newest Customer since first. sync: all, synced, not_synced or
        deleted (in Stripe); q searches name and email; pass next_cursor back as cursor
        for the next page; expand="stripe" adds each customer's full Stripe object."""
        with _as_token(secret) as token:
            page = customer_api.list_customers(
                token.business_id, sync=sync, q=q, cursor=cursor, limit=limit, expand=expand
            )
            return page.to_json()

    @server.tool()
    def get_customer(customer_id: int) -> dict:
        """One customer by its id, with `stripe`: Stripe's full customer object as last
        synced (phone, addresses, tax ids, balance, metadata…), or null when the customer
        is not from Stripe or its object has not been fetched yet. A synced customer has
        a populated stripeCustomerId (also given as stripe_customer_id)."""
        with _as_token(secret) as token:
            return customer_api.customer_json(
                customer_api.get_customer(token.business_id, customer_id), stripe=True
            )

    @server.tool()
    def create_customer(name: str, email: str, idempotency_key: str | None = None) -> dict:
        """Create a customer directly in ShingleAI (not synced to Stripe). The email must
        not belong to another customer. Pass an idempotency_key (e.g. a UUID) and retry
        with the same one: a retry returns the first result and never creates a second
        customer."""
        with _as_token(secret) as token:
            token.require_write()
            outcome = customer_api.create_customer(
                token.business_id,
                {"name": name, "email": email},
                idempotency_key=idempotency_key,
                token_id=token.id,
            )
        if outcome.status >= 400:
            raise ToolError(outcome.body["error"]["message"])
        return outcome.body

    @server.tool()
    def sync_status() -> dict:
        """Whether Stripe is linked and in what state, customer counts by sync state, and
        the latest import run and webhook event (null when there is none)."""
        with _as_token(secret) as token:
            return business_sync_status(token.business_id)

    return server


@click.command("mcp")
@click.option(
    "--token",
    envvar=TOKEN_ENV,
    help=f"An API token (shai_…) from the API tokens page; default: ${TOKEN_ENV}.",
)
@with_appcontext
def mcp_command(token: str | None) -> None:
    """Serve the customer tools over MCP (stdio) for one API token's business."""
    if not token:
        raise click.UsageError(f"Pass --token or set {TOKEN_ENV} to an API token.")
    try:
        with db.connection_context():
            ApiToken.authenticate(token)
    except ApiError as error:
        raise click.ClickException(f"Not starting the MCP server: {error.message}") from error
    build_server(token).run("stdio")


if __name__ == "__main__":
    from app import create_app

    with create_app().app_context():
        mcp_command(prog_name="python -m views.mcp_server")
