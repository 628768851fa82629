"""The Customers list of the owner's primary business."""

from __future__ import annotations

from flask import Blueprint, abort, g, request

from models.customer import SYNC_FILTERS, Customer
from views.auth import login_required
from views.rendering import page_or_fragment

bp = Blueprint("customers", __name__, cli_group=None)

PAGE_SIZE = 50


@bp.get("/customers")
@login_required
def index():
    """The list, filtered by sync state and search, newest Customer since first."""
    sync = request.args.get("sync", "all")
    if sync not in SYNC_FILTERS:
        abort(400, f"Unknown sync filter {sync!r}.")
    q = request.args.get("q", "").strip()
    page = max(request.args.get("page", 1, type=int), 1)
    query = Customer.for_business(g.business)
    condition = Customer.sync_condition(sync)
    if condition is not None:
        query = query.where(condition)
    if q:
        query = query.where(Customer.name.contains(q) | Customer.email.contains(q))
    total = query.count()
    rows = query.order_by(Customer.customer_since.desc(), Customer.id.desc()).paginate(
        page, PAGE_SIZE
    )
    return page_or_fragment(
        "customers/index.html",
        "customers/_table.html",
        customers=list(rows),
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        sync=sync,
        q=q,
    )
