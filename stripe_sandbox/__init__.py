"""A small, stateful Stripe stand-in (Connect OAuth, customers, events, webhooks, faults).

It exists because there is no internet here and a person trying the app has no Stripe
platform account: the app, its tests, the demo and the benchmarks all talk to this
WSGI app exactly as they would talk to Stripe, through the official `stripe` library.
"""

from stripe_sandbox.app import create_sandbox_app
from stripe_sandbox.settings import Settings

__all__ = ["Settings", "create_sandbox_app"]
