"""``flask demo``: the README's run command. Serves the dashboard with the local
Stripe sandbox beside it (unless real Stripe keys are configured) and seeds the
demo data on first start, so the app works offline with no Stripe account."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import click
from flask import Blueprint, current_app
from werkzeug.serving import run_simple

bp = Blueprint("demo", __name__, cli_group=None)


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


@bp.cli.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--customers", default=500, show_default=True, help="Demo rows on first start.")
@click.pass_context
def demo(ctx: click.Context, host: str, port: int, customers: int) -> None:
    """Seed on first start, start the sandbox, and serve the dashboard."""
    from views.customers import seed_demo

    ctx.invoke(seed_demo, customers=customers, if_empty=True)
    sandbox = (
        _start_sandbox(f"http://{host}:{port}") if current_app.config["STRIPE_SANDBOX"] else None
    )
    try:
        click.echo(f"ShingleAI Customers on http://{host}:{port}")
        # app.run() refuses to serve from inside a ``flask`` command; run_simple is what
        # it would call.
        run_simple(host, port, current_app._get_current_object(), threaded=True)
    finally:
        if sandbox is not None:
            sandbox.terminate()
            sandbox.wait(timeout=10)
