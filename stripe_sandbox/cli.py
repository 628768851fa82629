"""`python -m stripe_sandbox serve|seed|trigger|account|configure`.

Only `serve` runs the sandbox; the other commands talk to a running one through its
control endpoint, so they work against a sandbox started by the demo or a test too.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from typing import Any

from werkzeug.serving import make_server

from stripe_sandbox.app import create_sandbox_app
from stripe_sandbox.context import KEY
from stripe_sandbox.control_client import TOKEN_ENV, ControlClient, write_token_file
from stripe_sandbox.settings import Settings
from stripe_sandbox.testing import QuietHandler

DEFAULT_URL = "http://127.0.0.1:12111"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stripe_sandbox", description=__doc__)
    sub = parser.add_subparsers(required=True)

    serve = sub.add_parser("serve", help="run the sandbox")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=12111)
    serve.add_argument("--webhook-url")
    serve.add_argument("--webhook-secret", default="whsec_sandbox")
    serve.add_argument("--state", help="file that keeps the state across restarts")
    serve.add_argument("--api-key", default="sk_test_sandbox")
    serve.add_argument("--client-id", default="ca_sandbox")
    serve.add_argument("--redirect-uri", help="used when /oauth/authorize gets none")
    serve.add_argument("--fault", action="append", default=[], metavar="KEY=VALUE")
    serve.add_argument("--quiet", action="store_true", help="no per-request log lines")
    serve.add_argument(
        "--control-token",
        default=os.environ.get(TOKEN_ENV),
        help=f"token of the /_sandbox control API (default: ${TOKEN_ENV}, else random); "
        "written to a file only this user can read, where the other commands find it",
    )
    serve.set_defaults(run=_serve)

    def remote(name: str, help: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help)
        cmd.add_argument("--url", default=DEFAULT_URL, help="a running sandbox")
        return cmd

    seed = remote("seed", "add N fake customers to an account")
    seed.add_argument("--account", required=True)
    seed.add_argument("--customers", type=int, required=True)
    seed.set_defaults(run=_seed)

    trigger = remote("trigger", "cause a change that emits this event type")
    trigger.add_argument(
        "type",
        choices=[
            "customer.created",
            "customer.updated",
            "customer.deleted",
            "account.application.deauthorized",
        ],
    )
    trigger.add_argument("--account", required=True)
    trigger.add_argument("--customer", help="for updated/deleted; a new one if omitted")
    trigger.set_defaults(run=_trigger)

    account = remote("account", "create an account and print its id")
    account.add_argument("--name", default="Demo shop")
    account.add_argument("--customers", type=int, default=0)
    account.add_argument("--not-connected", action="store_true")
    account.set_defaults(run=_account)

    configure = remote("configure", "change faults at run time, print the config")
    configure.add_argument("settings", nargs="*", metavar="KEY=VALUE")
    configure.set_defaults(run=_configure)
    return parser


def _pairs(items: list[str]) -> dict[str, Any]:
    """`KEY=VALUE` with JSON values (`0.1`, `true`, `null`); bare words stay strings."""
    out: dict[str, Any] = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def _serve(args: argparse.Namespace) -> int:
    settings = Settings(
        api_key=args.api_key,
        client_id=args.client_id,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        redirect_uri=args.redirect_uri,
        state_file=args.state,
        control_token=args.control_token,
        faults=_pairs(args.fault),
    )
    app = create_sandbox_app(settings)
    extra = {"request_handler": QuietHandler} if args.quiet else {}
    server = make_server(args.host, args.port, app, threaded=True, **extra)
    token_path = write_token_file(server.server_port, settings.control_token)
    print(f"Stripe sandbox on http://{args.host}:{server.server_port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
        app.extensions[KEY].close()
        token_path.unlink(missing_ok=True)
    return 0


def _seed(args: argparse.Namespace) -> int:
    started = time.monotonic()
    ControlClient(args.url).seed(args.account, args.customers)
    print(f"seeded {args.customers} customers in {time.monotonic() - started:.1f}s")
    return 0


def _trigger(args: argparse.Namespace) -> int:
    extra = {"customer": args.customer} if args.customer else {}
    print(json.dumps(ControlClient(args.url).trigger(args.type, args.account, **extra)))
    return 0


def _account(args: argparse.Namespace) -> int:
    print(
        ControlClient(args.url).create_account(
            name=args.name, customers=args.customers, connected=not args.not_connected
        )
    )
    return 0


def _configure(args: argparse.Namespace) -> int:
    print(json.dumps(ControlClient(args.url).configure(**_pairs(args.settings)), indent=2))
    return 0
