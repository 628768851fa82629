""" "Sync now" for the owner, on the Customers list and the Stripe page: a catch-up from
Stripe's events at once, or "Check every customer" (a reconciliation) with its cost
stated first; both shown live by one self-replacing panel polled while the check runs.
Also ``flask sync-now`` for operators. The rules live in sync/sync_now.py."""

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

from models.business import Business
from models.stripe_account import StripeAccount
from models.sync_check import CATCH_UP, KINDS, RECONCILE, SyncCheck
from models.user import User
from sync import importer, sync_jobs, sync_now
from sync.reconcile import estimate
from views.auth import login_required
from views.rendering import htmx

bp = Blueprint("sync_now", __name__, cli_group=None)
# Where the no-JavaScript form returns to: the two pages that show the panel.
BACK = {"customers": "customers.index", "stripe": "stripe_connect.index"}


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def summary(check: SyncCheck, state: str) -> str:
    """The check's outcome (or progress) in the owner's words."""
    if state in ("queued", "running"):
        if check.kind == CATCH_UP:
            return f"Syncing: {plural(check.seen, 'change')} read from Stripe so far…"
        return f"Checking every customer with Stripe… {check.checked:,} checked so far."
    if state == "interrupted":
        return "The check was interrupted; it resumes by itself within a minute."
    if state != "succeeded":
        return f"Sync failed: {(check.last_error or 'unknown error').rstrip('.')}."
    if check.kind == CATCH_UP:
        found = (
            f"{plural(check.recovered, 'change')} recovered from Stripe"
            if check.recovered
            else "nothing to recover"
        )
        if check.phase == "gap":
            return (
                f"Stripe keeps only 30 days of changes, so catch-up could not cover them all "
                f"({found}): every customer is being checked against Stripe."
            )
        return f"Up to date: {found}."
    return (
        f"Checked {plural(check.checked, 'customer')}: {check.corrected:,} corrected, "
        f"{check.marked_deleted:,} marked deleted."
    )


def panel_of(business: Business, check: SyncCheck | None = None) -> dict:
    """What the panel shows for ``business``: its latest check, whether Stripe is
    connected (else why not), and what checking every customer would cost."""
    config = current_app.config
    check = check or SyncCheck.latest_for(business)
    state = check.shown_status(importer.setting(config, "IMPORT_STALE_AFTER")) if check else None
    link = StripeAccount.for_business(business)
    connected = link is not None and link.is_connected
    return {
        "check": check,
        "state": state,
        "polling": state in ("queued", "running"),
        "summary": summary(check, state) if check else None,
        "connected": connected,
        "reason": None if connected else _why_not(link),
        "cost": estimate(business.id, config, link) if connected else None,
    }


def _why_not(link: StripeAccount | None) -> str:
    return sync_now.NOT_CONNECTED if link is not None else sync_now.NEVER_CONNECTED


@bp.app_context_processor
def _panel_helper() -> dict:
    """A function, not a value: only the pages that include the slot pay for the queries."""

    def sync_now_panel() -> dict | None:
        business = g.get("business")
        return panel_of(business) if business is not None else None

    return {"sync_now_panel": sync_now_panel}


def _render(check: SyncCheck | None = None, notice: str | None = None):
    view = panel_of(g.business, check)
    response = current_app.make_response(
        render_template("sync_now/_panel.html", sync_view=view, notice=notice)
    )
    if htmx and check is not None and not view["polling"] and request.args.get("watching"):
        # The poll saw the check end: the table and the health panel refresh.
        response.headers["HX-Trigger"] = "customers-changed, import-stopped"
    return response


@bp.post("/sync-now")
@login_required
def start():
    """Start a catch-up (``kind=catch_up``) or a reconciliation, or join the check
    already running for this business."""
    kind = request.form.get("kind", CATCH_UP)
    if kind not in KINDS:
        abort(400)
    notice = check = None
    try:
        check, joined = sync_jobs.start_check(
            g.business.id, kind, config=current_app.config, reason="owner"
        )
    except sync_now.CannotSync as error:
        notice = str(error)
    else:
        if joined:
            notice = "A check is already running; showing its progress."
    if htmx:
        return _render(check, notice)
    if notice:
        flash(notice)
    return redirect(url_for(BACK.get(request.form.get("back"), "customers.index")))


@bp.get("/sync-now/<int:check_id>")
@login_required
def status(check_id: int):
    """The self-replacing panel, polled about once a second while the check runs."""
    check = SyncCheck.get_for_business(g.business, check_id)
    if check is None:
        abort(404)
    if not htmx:
        return redirect(url_for("customers.index"))
    return _render(check)


@bp.cli.command("sync-now")
@click.option("--email", required=True, help="The owner's email: syncs their primary business.")
@click.option("--full", is_flag=True, help="Check every customer (a reconciliation).")
def sync_now_command(email: str, full: bool) -> None:
    """Catch up with Stripe now (or, with --full, check every customer), with progress."""
    owner = User.by_email(email)
    if owner is None:
        raise click.ClickException(f"no owner with email {email}")
    business = Business.primary_for(owner)
    if business is None:
        raise click.ClickException(f"{email} has no primary business")
    config = current_app.config
    kind = RECONCILE if full else CATCH_UP
    try:
        check, queued = sync_now.start(business.id, kind, config, reason="cli")
    except sync_now.CannotSync as error:
        raise click.ClickException(str(error)) from None
    if check.kind == RECONCILE and check.estimate:
        link = StripeAccount.for_business(business)
        cost = estimate(business.id, config, link)
        click.echo(
            f"Checking every customer of {business.name}: about {check.estimate:,} requests "
            f"to Stripe, {cost.duration}."
        )

    with click.progressbar(length=1000, label=f"Syncing {business.name}") as bar:

        def progress(run: SyncCheck) -> None:
            fresh = run.refresh()
            bar.label = summary(fresh, fresh.status)
            bar.update(max(0, fresh.progress - bar.pos))

        if queued:
            check = sync_now.take_and_execute(check.id, config, on_progress=progress) or check
        else:
            click.echo(f"Joining the check already running (check {check.id}).")
            check = sync_now.wait_for(check, on_progress=progress)
        bar.update(1000 - bar.pos)
    sync_jobs.follow_up(check.refresh(), config)
    check = check.refresh()
    if check.status != "succeeded":
        raise click.ClickException(summary(check, check.status))
    click.echo(summary(check, check.status))
    if check.kind == RECONCILE:
        click.echo(f"Stripe requests: {check.requests:,} (estimated {check.estimate or 0:,}).")
