"""The support console (``/support``): ShingleAI staff find a business, see its Stripe
link and history, imports, webhook events and customers, replay a failed event, remove
customers deleted in Stripe, and read the audit log every one of those actions writes
to. Only support staff reach it (owners get 404); ``flask create-support`` makes them."""

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

from models.audit_log import PAGE_SIZE as AUDIT_PAGE
from models.audit_log import AuditEntry
from models.business import Business
from models.customer import Customer
from models.customer_list import list_page, stats
from models.import_run import ImportRun
from models.link_history import LinkEvent
from models.stripe_account import StripeAccount
from models.support_search import find_businesses, query_error
from models.user import User
from models.webhook_event import OUTCOME_LABELS, WebhookEvent
from sync.platform_health import EVENT_TYPES, platform_health
from sync.webhook_replay import NotReplayable, replay
from views.auth import support_required
from views.customers import SYNC_LABELS
from views.customers import _list_args as list_args
from views.removal import confirm_then_remove, label
from views.rendering import page_or_fragment
from views.webhooks import webhook_url

bp = Blueprint("support", __name__, cli_group=None)

EVENTS_PAGE = 50


def _business(business_id: int) -> Business:
    business = Business.get_or_none(Business.id == business_id)
    if business is None:
        abort(404)
    return business


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    if not value:
        return None
    if not value.isdigit():
        abort(400, f"{name} must be a number.")
    return int(value)


@bp.get("/support")
@support_required
def index():
    """Find a business; the platform's webhook status and set-up beside it."""
    q = request.args.get("q", "").strip()[:200]
    error = query_error(q) if q else None
    matches = find_businesses(q) if q and not error else None
    if matches is not None:
        AuditEntry.write(
            g.user,
            "business.searched",
            f"Searched for “{q}”: {len(matches)} businesses",
            details={"query": q, "business_ids": [m.business.id for m in matches]},
        )
    return render_template(
        "support/index.html",
        q=q,
        error=error,
        matches=matches,
        platform=platform_health(current_app.config, webhook_url()),
        outcome_labels=OUTCOME_LABELS,
        event_types=EVENT_TYPES,
    )


@bp.get("/support/businesses/<int:business_id>")
@support_required
def business(business_id: int):
    """Everything about one business that support may need to answer its owner."""
    business = _business(business_id)
    accounts = StripeAccount.accounts_ever(business)
    AuditEntry.write(g.user, "business.viewed", f"Viewed {business.name}", business=business)
    return render_template(
        "support/business.html",
        business=business,
        link=StripeAccount.for_business(business),
        history=list(LinkEvent.history(business)),
        runs=list(ImportRun.newest_for(business, 10)),
        totals=WebhookEvent.outcome_totals(business.id, accounts),
        events=WebhookEvent.of_business(business.id, accounts, limit=10),
        counts=stats(business.id),
        audit=list(AuditEntry.newest(business_id=business.id).limit(10)),
        outcome_labels=OUTCOME_LABELS,
        sync_labels=SYNC_LABELS,
    )


@bp.get("/support/businesses/<int:business_id>/events")
@support_required
def events(business_id: int):
    """The business's webhook events, by outcome, newest first."""
    business = _business(business_id)
    outcome = request.args.get("outcome") or None
    if outcome is not None and outcome not in OUTCOME_LABELS:
        abort(400, f"Unknown outcome {outcome!r}: use one of {', '.join(OUTCOME_LABELS)}.")
    accounts = StripeAccount.accounts_ever(business)
    rows = list(
        WebhookEvent.of_business(
            business.id,
            accounts,
            outcome=outcome,
            before=_int_arg("before"),
            limit=EVENTS_PAGE + 1,
        )
    )
    return render_template(
        "support/events.html",
        business=business,
        outcome=outcome,
        events=rows[:EVENTS_PAGE],
        next_before=rows[EVENTS_PAGE - 1].id if len(rows) > EVENTS_PAGE else None,
        totals=WebhookEvent.outcome_totals(business.id, accounts),
        outcome_labels=OUTCOME_LABELS,
    )


@bp.post("/support/businesses/<int:business_id>/events/<int:webhook_event_id>/replay")
@support_required
def replay_event(business_id: int, webhook_event_id: int):
    """Apply a failed event's stored payload again; audit-logged."""
    business = _business(business_id)
    accounts = StripeAccount.accounts_ever(business)
    row = WebhookEvent.get_or_none(WebhookEvent.id == webhook_event_id)
    if row is None or not row.belongs_to(business.id, accounts):
        abort(404)
    try:
        replay(row, business, g.user, current_app.config)
    except NotReplayable as refused:
        flash(str(refused))
    else:
        label = OUTCOME_LABELS.get(WebhookEvent.outcome_of(row.event_id), "")
        flash(f"Replayed {row.type} {row.event_id}: {label}.")
    # Back where the Replay button was: the business's page or its events page.
    target = "support.business" if request.form.get("from") == "business" else "support.events"
    return redirect(url_for(target, business_id=business.id))


@bp.get("/support/businesses/<int:business_id>/customers")
@support_required
def customers(business_id: int):
    """The business's Customers list as its owner sees it, read-only."""
    business = _business(business_id)
    args = list_args()
    return page_or_fragment(
        "support/customers.html",
        "support/_customers_table.html",
        business=business,
        result=list_page(business.id, **args),
        sync=args["sync"],
        q=args["q"],
        sync_labels=SYNC_LABELS,
        list_endpoint="support.customers",
        list_args={"business_id": business.id},
    )


@bp.route(
    "/support/businesses/<int:business_id>/customers/<int:customer_id>/remove",
    methods=["GET", "POST"],
)
@support_required
def remove_customer(business_id: int, customer_id: int):
    """Confirm, then remove a customer deleted in Stripe from the owner's list."""
    business = _business(business_id)
    customer = Customer.get_for_business(business, customer_id)
    if customer is None:
        abort(404)
    return confirm_then_remove(
        business,
        customer,
        page="support/remove.html",
        back=url_for("support.customers", business_id=business.id, sync="deleted"),
        done=f"Removed {label(customer)} from {business.name}'s list. "
        "The audit log keeps its data.",
        business=business,
    )


@bp.get("/support/audit")
@support_required
def audit():
    """The audit log, newest first; read-only (no route changes it)."""
    business_id = _int_arg("business_id")
    rows = list(AuditEntry.newest(business_id=business_id, before=_int_arg("before")))
    entries = rows[:AUDIT_PAGE]
    return render_template(
        "support/audit.html",
        entries=entries,
        next_before=entries[-1].id if len(rows) > AUDIT_PAGE else None,
        business=Business.get_or_none(Business.id == business_id) if business_id else None,
        business_id=business_id,
    )


@bp.cli.command("create-support")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 12 characters.")
def create_support(email: str, password: str) -> None:
    """Create a ShingleAI support account: it sees the support console only."""
    if "@" not in email:
        raise click.BadParameter("must be an email address", param_hint="--email")
    if len(password) < 12:
        raise click.BadParameter("must be at least 12 characters", param_hint="--password")
    if User.by_email(email):
        raise click.ClickException(f"an account with email {email} already exists")
    user = User.create_support(email, password)
    click.echo(f"Created support account {user.email}: log in and open /support.")
