"""Stripe → ShingleAI sync: plain functions over explicit inputs (a Stripe client,
a business, a page of objects), testable without Flask."""
