"""Peewee models and the database they live in."""

from models.business import Business
from models.customer import Customer
from models.customer_search import search_terms  # noqa: F401  (registers the trigger function)
from models.db import db, init_db
from models.stripe_account import StripeAccount
from models.user import User

__all__ = ["Business", "Customer", "StripeAccount", "User", "db", "init_db"]
