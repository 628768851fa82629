"""The Customers list of the owner's primary business, its inline edit, the live
refresh poll, and ``flask seed-demo``."""

from __future__ import annotations

import click
from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_htmx import make_response

from models.customer import SYNC_FILTERS, Customer, validate_fields
from models.customer_list import (
    MAX_PAGE,
    BadCursor,
    ListPage,
    change_marker,
    list_page,
    parse_cursor,
    stats,
)
from models.customer_search import clean_query
from models.db import StatementTimeout, statement_time_limit
from models.demo import DEMO_EMAIL, DEMO_PASSWORD, create_demo
from models.user import User, utcnow
from views.auth import login_required
from views.rendering import htmx, page_or_fragment, wants_fragment

bp = Blueprint("customers", __name__, cli_group=None)

SYNC_LABELS = {
    "all": "All",
    "synced": "Synced",
    "not_synced": "Not synced",
    "deleted": "Deleted in Stripe",
}


def _list_args() -> dict:
    """The list's state from the query string; bad values are the client's error."""
    sync = request.args.get("sync", "all")
    if sync not in SYNC_FILTERS:
        abort(400, f"Unknown sync filter {sync!r}: use one of {', '.join(SYNC_FILTERS)}.")
    try:
        after = parse_cursor(request.args.get("after"))
        before = parse_cursor(request.args.get("before"))
    except BadCursor as error:
        abort(400, str(error))
    page = request.args.get("page", 1, type=int)
    if page > MAX_PAGE:
        abort(400, f"There is no page {page}: page numbers go up to {MAX_PAGE:,}.")
    return {
        "sync": sync,
        "q": clean_query(request.args.get("q")),
        "page": max(page, 1),
        "after": after,
        "before": before,
    }


@bp.get("/customers")
@login_required
def index():
    """The list, filtered by sync state and search, newest Customer since first."""
    args = _list_args()
    too_slow = False
    try:
        with statement_time_limit(float(current_app.config["LIST_TIME_LIMIT_MS"])):
            result = list_page(g.business.id, **args)
    except StatementTimeout:
        # A search whose matches are too rare to find quickly by walking the list.
        too_slow, result = True, ListPage([], args["page"], False, None)
    counts = stats(g.business.id)
    return page_or_fragment(
        "customers/index.html",
        "customers/_table.html",
        result=result,
        sync=args["sync"],
        q=args["q"],
        self_url=request.full_path.rstrip("?"),
        has_customers=counts["all"] > 0,
        marker=counts["changes"],
        sync_labels=SYNC_LABELS,
        too_slow=too_slow,
    )


@bp.get("/customers/changes")
@login_required
def changes():
    """The live list's poll: 204 while nothing changed since the page's marker, else a
    fresh poller and a ``customers-changed`` event that makes the table re-fetch."""
    seen = request.args.get("since", -1, type=int)
    marker = change_marker(g.business.id)
    if marker == seen:
        return "", 204
    body = render_template("customers/_live.html", marker=marker)
    return make_response(body, trigger="customers-changed")


def _own_customer(customer_id: int) -> Customer:
    customer = Customer.get_for_business(g.business, customer_id)
    if customer is None:
        abort(404)
    return customer


def _row_or_list(customer: Customer):
    """The row alone for htmx (focus back on its Edit link); a plain request, which
    has no row to replace, goes to the list."""
    if wants_fragment():
        body = render_template("customers/_row.html", customer=customer, focus_edit=True)
        response = make_response(body)
    else:
        response = redirect(url_for("customers.index"))
    response.vary.add("HX-Request")
    return response


@bp.get("/customers/<int:customer_id>")
@login_required
def row(customer_id: int):
    """One row, as the inline edit's Cancel and Escape put it back."""
    return _row_or_list(_own_customer(customer_id))


@bp.get("/customers/<int:customer_id>/edit")
@login_required
def edit(customer_id: int):
    """The inline edit form (a page of its own without JavaScript)."""
    customer = _own_customer(customer_id)
    return page_or_fragment(
        "customers/edit.html",
        "customers/_row_edit.html",
        customer=customer,
        values={"name": customer.name or "", "email": customer.email or ""},
        errors={},
    )


@bp.post("/customers/<int:customer_id>")
@login_required
def update(customer_id: int):
    """Save a name and email typed in ShingleAI. The stripe_version_* columns stay as
    they are, so Stripe's next change to a synced customer overwrites this edit."""
    customer = _own_customer(customer_id)
    values = {key: request.form.get(key, "").strip() for key in ("name", "email")}
    errors = validate_fields(values["name"], values["email"])
    if errors:
        response = page_or_fragment(
            "customers/edit.html",
            "customers/_row_edit.html",
            customer=customer,
            values=values,
            errors=errors,
        )
        # htmx swaps only 2xx answers; a plain form post gets the honest status.
        response.status_code = 200 if htmx else 400
        return response
    Customer.update(**values, updated_at=utcnow()).where(
        (Customer.id == customer.id) & (Customer.business == g.business.id)
    ).execute()
    return _row_or_list(_own_customer(customer_id))


@bp.cli.command("seed-demo")
@click.option("--customers", default=500, show_default=True, type=click.IntRange(0, 5_000_000))
@click.option("--if-empty", is_flag=True, help="Do nothing when the demo owner exists.")
def seed_demo(customers: int, if_empty: bool) -> None:
    """Create a demo owner with a primary and a second business full of customers."""
    if User.by_email(DEMO_EMAIL):
        if if_empty:
            click.echo(f"Demo owner {DEMO_EMAIL} exists; nothing to do.")
            return
        raise click.ClickException(
            f"the demo owner {DEMO_EMAIL} already exists (pass --if-empty to skip quietly)"
        )
    create_demo(customers)
    click.echo(f"Created {customers} demo customers. Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
