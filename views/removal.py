"""Remove's two steps, shared by the owner's list and the support console: GET shows
a confirmation page (works without JavaScript), a CSRF-checked POST removes. The
model refuses any row not deleted in Stripe, whoever asks."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request

from models.business import Business
from models.customer import Customer
from models.customer_removal import NotRemovable, check_removable, remove_deleted


def label(customer: Customer) -> str:
    return customer.name or customer.email or customer.stripe_customer_id or "the customer"


def confirm_then_remove(
    business: Business, customer: Customer, /, *, page: str, back: str, done: str, **context
):
    """The confirmation page on GET; on POST remove ``customer`` and go ``back`` with
    the ``done`` message. A row that cannot be removed goes ``back`` saying why."""
    try:
        check_removable(customer)
        if request.method == "POST":
            remove_deleted(business, customer.id, g.user)
    except NotRemovable as refused:
        flash(str(refused))
        return redirect(back)
    if request.method == "POST":
        flash(done)
        return redirect(back)
    return render_template(page, customer=customer, action=request.path, cancel=back, **context)
