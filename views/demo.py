"""``flask demo``: the README's run command. Serves the dashboard with the local
Stripe sandbox beside it (unless real Stripe keys are configured) and seeds the
demo data on first start, so the app works offline with no Stripe account.

The demo tells one story: its synced customers really are in a (sandbox) Stripe
account that is linked to the demo business, so every green badge, Stripe id and
later webhook is true; the rows without a Stripe id were added in ShingleAI."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

import click
from flask import Blueprint, Flask, current_app
from werkzeug.serving import make_server

from models.business import Business
from models.customer import Customer
from models.db import db
from models.demo import DEMO_EMAIL, DEMO_PASSWORD, create_demo
from models.stripe_account import StripeAccount
from models.user import User
from sync import connect, importer
from sync.stripe_client import account_options, make_client

bp = Blueprint("demo", __name__, cli_group=None)
log = logging.getLogger(__name__)
# Of the customers in the demo's Stripe account, this share is then deleted in Stripe.
DELETED_SHARE = 0.05


def link_sandbox_account(business: Business, config: Mapping, customers: int) -> str:
    """Create a sandbox Stripe account named after ``business`` holding ``customers``,
    link it, import it, then delete a few customers in Stripe (their webhooks mark
    them "Deleted in Stripe"). Returns the account id."""
    # The sandbox's control API is the demo's "create a Stripe account" button.
    from stripe_sandbox.control_client import ControlClient

    control = ControlClient(
        config["STRIPE_SANDBOX_URL"], config.get("STRIPE_SANDBOX_CONTROL_TOKEN")
    )
    account = control.create_account(name=business.name, customers=customers, connected=True)
    name = connect.account_name(config, account)
    StripeAccount.attach(business, account, livemode=False, account_name=name)
    importer.run_in_foreground(business.id, config)
    synced = (
        Customer.for_business(business)
        .where(Customer.stripe_customer_id.is_null(False))
        .order_by(Customer.id)
    )
    doomed = [row.stripe_customer_id for row in synced][:: max(1, round(1 / DELETED_SHARE))]
    client = make_client(config)
    for stripe_id in doomed:
        client.v1.customers.delete(stripe_id, options=account_options(account))
    return account


def set_up(config: Mapping, customers: int, *, with_sandbox: bool) -> bool:
    """First start only: the demo owner, a fifth of ``customers`` added in ShingleAI,
    and (with the sandbox) a linked Stripe account holding the rest. False when the
    demo owner already exists."""
    if User.by_email(DEMO_EMAIL):
        return False
    local = customers // 5 if with_sandbox else customers
    user = create_demo(local, local_only=True)
    if with_sandbox:
        link_sandbox_account(Business.primary_for(user), config, customers - local)
    return True


def _wait_for_port(host: str, port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    """Block until the sandbox accepts connections, or fail with its exit code."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(f"the Stripe sandbox exited with code {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise click.ClickException(f"the Stripe sandbox did not start on {host}:{port}")


def _start_sandbox(app_url: str) -> subprocess.Popen:
    config = current_app.config
    sandbox = urlsplit(config["STRIPE_SANDBOX_URL"])
    os.makedirs(current_app.instance_path, exist_ok=True)
    state = os.path.join(current_app.instance_path, "sandbox-state.sqlite3")
    command = [
        sys.executable,
        "-m",
        "stripe_sandbox",
        "serve",
        "--port",
        str(sandbox.port or 12111),
        "--webhook-url",
        f"{app_url}/webhooks/stripe",
        "--webhook-secret",
        config["STRIPE_WEBHOOK_SECRET"].split(",")[0],
        "--state",
        state,
        # Its control API needs a token; `python -m stripe_sandbox …` finds it in the
        # file the sandbox writes for its port.
        "--control-token",
        secrets.token_urlsafe(24),
    ]
    process = subprocess.Popen(command)
    _wait_for_port(sandbox.hostname or "127.0.0.1", sandbox.port or 12111, process)
    click.echo(f"Sandbox state is kept in {state}")
    return process


def _set_up_in_background(app: Flask, customers: int) -> None:
    """Runs while the dashboard already serves, so the sandbox's webhooks (the
    deletions) reach it and the owner can watch the first import."""

    def work() -> None:
        with app.app_context(), db.connection_context():
            try:
                set_up(app.config, customers, with_sandbox=True)
                click.echo(f"Demo ready. Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
            except Exception:
                log.exception("Setting up the demo's Stripe account failed")

    threading.Thread(target=work, name="demo-setup", daemon=True).start()


@bp.cli.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--customers", default=500, show_default=True, help="Demo rows on first start.")
def demo(host: str, port: int, customers: int) -> None:
    """Seed on first start, start the sandbox, and serve the dashboard."""
    app = current_app._get_current_object()
    with_sandbox = app.config["STRIPE_SANDBOX"]
    sandbox = _start_sandbox(f"http://{host}:{port}") if with_sandbox else None
    # Bound before the set-up starts, so the sandbox's webhooks find the app.
    server = make_server(host, port, app, threaded=True)
    try:
        if with_sandbox and not User.by_email(DEMO_EMAIL):
            _set_up_in_background(app, customers)
        elif not with_sandbox and set_up(app.config, customers, with_sandbox=False):
            click.echo(f"Created {customers} demo customers (added in ShingleAI).")
        click.echo(f"ShingleAI Customers on http://{host}:{port}")
        server.serve_forever()
    finally:
        server.server_close()
        if sandbox is not None:
            sandbox.terminate()
            sandbox.wait(timeout=10)
