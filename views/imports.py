"""The initial import on the dashboard: a live status partial (included on the
Customers list and the Stripe page), the owner's "Retry import", and ``flask
import-customers`` for operators. Runs a dead worker left behind are resumed by the
job queue's recovery sweep (sync/import_jobs.py)."""

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
from models.import_run import ImportRun
from models.stripe_account import StripeAccount
from models.user import User
from sync import catch_up_jobs, import_jobs, importer
from views.auth import login_required
from views.rendering import htmx
from views.throttle import throttle

bp = Blueprint("imports", __name__, cli_group=None)


def status_of(run: ImportRun | None) -> dict | None:
    """What the status partial shows about ``run``."""
    if run is None:
        return None
    state = run.shown_status(importer.setting(current_app.config, "IMPORT_STALE_AFTER"))
    polling = state in ("queued", "running")
    # A failed run waiting for its automatic retry is watched (slowly), so the page
    # shows the retry starting instead of a retry time that has passed.
    watching = state == "failed" and run.retry_at is not None
    # Only a stopped run needs the link (Retry, or Reconnect): one query while polling.
    link = None if polling else StripeAccount.for_business(run.business_id)
    return {
        "run": run,
        "state": state,
        "polling": polling,
        "watching": watching,
        "connected": link is not None and link.is_connected,
    }


@bp.app_context_processor
def _status_helper() -> dict:
    """A function, not a value: only the pages that include the slot pay for the query."""

    def import_status() -> dict | None:
        business = g.get("business")
        return status_of(ImportRun.latest_for(business)) if business is not None else None

    return {"import_status": import_status}


def _owned_run(run_id: int) -> ImportRun:
    run = ImportRun.get_for_business(g.business, run_id)
    if run is None:
        abort(404)
    return run


def _render(run: ImportRun, notice: str | None = None):
    """The partial. When a poll sees the run stop, the sync health panel refreshes
    (``import-stopped``), and after a success the Customers table too."""
    view = status_of(run)
    response = current_app.make_response(
        render_template("imports/_status.html", import_view=view, notice=notice)
    )
    if htmx and view["state"] != request.args.get("seen") and not view["polling"]:
        events = ["import-stopped"] + (["customers-changed"] if run.status == "succeeded" else [])
        response.headers["HX-Trigger"] = ", ".join(events)
    return response


@bp.get("/imports/<int:run_id>")
@login_required
def status(run_id: int):
    """The self-replacing status partial, polled about once a second while it runs."""
    return _render(_owned_run(run_id))


@bp.post("/imports/<int:run_id>/retry")
@login_required
def retry(run_id: int):
    """Resume a failed or interrupted import where it stopped; nothing for any other
    run (a double click, a stale page), and at most IMPORT_RETRY_LIMIT a business."""
    run = _owned_run(run_id)
    key = str(g.business.id)
    notice = None
    if not throttle().allows("import-retry", key):
        wait = throttle().retry_after("import-retry", key)
        notice = f"Too many retries. Try again in {wait} seconds."
    elif import_jobs.retry(run, current_app.config) is not None:
        throttle().count("import-retry", key)
    latest = ImportRun.latest_for(g.business) or run
    if htmx:
        return _render(latest, notice)
    if notice:
        flash(notice)
    return redirect(url_for("customers.index"))


@bp.cli.command("import-customers")
@click.option("--business-id", type=int, help="The business to import into.")
@click.option("--email", help="Or the owner's email: imports into their primary business.")
def import_customers(business_id: int | None, email: str | None) -> None:
    """Run (or resume) a business's Stripe import in the foreground, with progress."""
    if (business_id is None) == (email is None):
        raise click.UsageError("give exactly one of --business-id and --email")
    if email is not None:
        owner = User.by_email(email)
        business = Business.primary_for(owner) if owner else None
        if business is None:
            raise click.ClickException(f"no owner with email {email}")
    else:
        business = Business.get_or_none(Business.id == business_id)
        if business is None:
            raise click.ClickException(f"no business with id {business_id}")
    with click.progressbar(length=1000, label=f"Importing into {business.name}") as bar:

        def advance(run: ImportRun) -> None:
            fresh = run.refresh()
            bar.label = f"Importing into {business.name}: {fresh.seen:,} customers"
            bar.update(fresh.progress - bar.pos)

        try:
            run = importer.run_in_foreground(business.id, current_app.config, on_page=advance)
        except importer.ImportBusy as busy:
            raise click.ClickException(str(busy)) from None
        if run.status == "succeeded":
            bar.update(1000 - bar.pos)
    if run.status != "succeeded":
        raise click.ClickException(f"import run {run.id} failed: {run.last_error}")
    # As after a queued import: events lost while it ran, and any gap catch-up flagged
    # before it, are settled by the catch-up that follows (on the job queue's workers).
    catch_up_jobs.after_import(business.id)
    click.echo(f"Imported {run.total:,} customers in {run.elapsed_seconds} s (run {run.id}).")
