"""The Customers list of the owner's primary business, its inline edit, the live
refresh poll, and ``flask seed-demo``."""

from __future__ import annotations

import click
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
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
from models.stripe_account import StripeAccount
from models.user import User, utcnow
from views.auth import login_required
from views.customer_detail import customer_detail
from views.removal import confirm_then_remove, label
from views.rendering import htmx, page_or_fragment, wants_fragment

bp = Blueprint("customers", __name__, cli_group=None)

SYNC_LABELS = {
    "all": "All",
    "synced": "Synced",
    "not_synced": "Not synced",
    "deleted": "Deleted in Stripe",
}


class _Misread(Exception):
    """A list URL with a value the list cannot use (an edited or stale link)."""


def _list_args() -> dict:
    """The list's state from the query string; raises _Misread on a bad value."""
    sync = request.args.get("sync", "all")
    if sync not in SYNC_FILTERS:
        raise _Misread(f"There is no “{sync[:40]}” filter, so all customers are shown.")
    try:
        after = parse_cursor(request.args.get("after"))
        before = parse_cursor(request.args.get("before"))
    except BadCursor:
        raise _Misread("That page link is out of date, so the list starts again.") from None
    page = request.args.get("page", 1, type=int)
    if page > MAX_PAGE:
        raise _Misread(f"There is no page {page}, so the list starts again.")
    return {
        "sync": sync,
        "q": clean_query(request.args.get("q")),
        "page": max(page, 1),
        "after": after,
        "before": before,
    }


def _back_to_list(note: str):
    """Back to the first page, keeping what was still good (filter, search)."""
    flash(note)
    sync = request.args.get("sync")
    keep = {
        "sync": sync if sync in SYNC_FILTERS and sync != "all" else None,
        "q": request.args.get("q", "").strip()[:200] or None,
    }
    target = url_for("customers.index", **keep)
    if htmx:
        # The note is a flash, shown on a whole page, so htmx must load one.
        return make_response("", redirect=target)
    return redirect(target)


LIST_STATE = ("sync", "q", "page", "after", "before")


def _list_state() -> dict:
    """The list's query-string state, carried by the customer page's URL so that a
    reload (or a link without JavaScript) shows the same list beside the panel.
    Defaults (All, page 1) are left out, so URLs stay as short as the list's own."""
    defaults = {"sync": "all", "page": "1"}
    return {
        key: request.args[key]
        for key in LIST_STATE
        if request.args.get(key) and request.args[key] != defaults.get(key)
    }


def _list_context() -> dict:
    """What the list shows; raises _Misread on a bad URL. A search that runs out of
    time (LIST_TIME_LIMIT_MS) shows a note asking to refine it, never an error."""
    args = _list_args()
    too_slow = False
    try:
        with statement_time_limit(float(current_app.config["LIST_TIME_LIMIT_MS"])):
            result = list_page(g.business.id, **args)
    except StatementTimeout:
        too_slow, result = True, ListPage([], args["page"], False, None)
    counts = stats(g.business.id)
    return {
        "result": result,
        "too_slow": too_slow,
        "sync": args["sync"],
        "q": args["q"],
        "self_url": url_for("customers.index", **_list_state()),
        "list_state": _list_state(),
        "has_customers": counts["all"] > 0,
        "marker": counts["changes"],
        "link": link_state(g.business),
        "sync_labels": SYNC_LABELS,
    }


@bp.get("/customers")
@login_required
def index():
    """The list, filtered by sync state and search, newest Customer since first."""
    try:
        context = _list_context()
    except _Misread as misread:
        return _back_to_list(str(misread))
    return page_or_fragment("customers/index.html", "customers/_table.html", **context)


@bp.get("/customers/<int:customer_id>")
@login_required
def show(customer_id: int):
    """The customer page: the panel alone for htmx (opened beside the list), else the
    whole list page with the panel open, so a reload or Back shows the same."""
    context = {"detail": customer_detail(_own_customer(customer_id), current_app.config)}
    if wants_fragment():
        context["list_state"] = _list_state()
    else:  # only the whole page needs the list
        try:
            context.update(_list_context())
        except _Misread as misread:
            return _back_to_list(str(misread))
    return page_or_fragment("customers/index.html", "customers/_panel.html", **context)


@bp.get("/customers/changes")
@login_required
def changes():
    """The live list's poll: 204 while nothing changed since the page's marker, else a
    fresh poller and a ``customers-changed`` event that makes the table re-fetch."""
    seen = request.args.get("since", -1, type=int)
    marker = change_marker(g.business.id)
    link = link_state(g.business)
    if marker == seen and link == request.args.get("link"):
        return "", 204
    events = []
    if marker != seen:
        events.append("customers-changed")
    if link != request.args.get("link"):
        events.append("stripe-link-changed")
    body = render_template("customers/_live.html", marker=marker, link=link)
    return make_response(body, trigger=", ".join(events))


def link_state(business) -> str:
    """What the list's banner depends on, as a token the live poll compares."""
    found = StripeAccount.for_business(business)
    return "none" if found is None else f"{found.status}-{found.disconnected_by or ''}"


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


@bp.get("/customers/<int:customer_id>/row")
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
    status = 400
    taken = (
        None
        if errors
        else Customer.holding_email(g.business, values["email"], other_than=customer.id)
    )
    if taken is not None:
        errors["email"] = (
            f"{taken.name or 'Another customer'} ({taken.email}) already has this email "
            "address. Each customer needs their own."
        )
        status = 409
    if errors:
        response = page_or_fragment(
            "customers/edit.html",
            "customers/_row_edit.html",
            customer=customer,
            values=values,
            errors=errors,
        )
        # htmx swaps only 2xx answers; a plain form post gets the honest status.
        response.status_code = 200 if htmx else status
        return response
    Customer.update(**values, updated_at=utcnow()).where(
        (Customer.id == customer.id) & (Customer.business == g.business.id)
    ).execute()
    return _row_or_list(_own_customer(customer_id))


@bp.route("/customers/<int:customer_id>/remove", methods=["GET", "POST"])
@login_required
def remove(customer_id: int):
    """Remove one of the owner's customers deleted in Stripe: a confirmation page,
    then a POST. Live rows stay (the model refuses them)."""
    customer = _own_customer(customer_id)
    return confirm_then_remove(
        g.business,
        customer,
        page="customers/remove.html",
        back=url_for("customers.index"),
        done=f"Removed {label(customer)} from your list.",
    )


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
