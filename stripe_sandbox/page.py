"""The sandbox's own page at `/`: watch accounts, customers and webhook deliveries.

It plays the part of Stripe's dashboard in the demo: every button goes through the
same store methods as the API, so it emits the same events.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, redirect, render_template, request, url_for

from stripe_sandbox.context import sandbox
from stripe_sandbox.tax_ids import TYPES as TAX_TYPES

bp = Blueprint("page", __name__)

PAGE_SIZE = 20


@bp.get("/")
def index() -> str:
    sb = sandbox()
    store = sb.store
    with store.lock:
        accounts = sorted(store.accounts.values(), key=lambda a: a.created)
    current = request.args.get("account") or (accounts[-1].id if accounts else None)
    customers, has_more, events = [], False, []
    if current in store.accounts:
        params = {"limit": PAGE_SIZE}
        for cursor in ("starting_after", "ending_before"):
            if request.args.get(cursor):
                params[cursor] = request.args[cursor]
        raws, has_more = store.list_customers(current, params)
        customers = [json.loads(raw) for raw in raws]
        events = store.recent_events(current)
    return render_template(
        "index.html",
        accounts=accounts,
        current=current,
        customers=customers,
        has_more=has_more,
        backwards="ending_before" in request.args,
        events=events,
        delivery=sb.dispatcher.outcomes(),
        settings=sb.settings,
        endpoints=list(store.endpoints),
    )


@bp.post("/accounts")
def create_account() -> Response:
    account = sandbox().store.create_account(
        request.form.get("name") or "Demo shop",
        connected=bool(request.form.get("connected")),
        customers=int(request.form.get("customers") or 0),
    )
    return redirect(url_for("page.index", account=account.id))


@bp.post("/accounts/<acct>/customers")
def create_customer(acct: str) -> Response:
    sandbox().store.create_customer(acct, _fields())
    return redirect(url_for("page.index", account=acct))


@bp.post("/accounts/<acct>/customers/<cid>")
def update_customer(acct: str, cid: str) -> Response:
    sandbox().store.update_customer(acct, cid, _fields())
    return redirect(url_for("page.index", account=acct))


@bp.get("/accounts/<acct>/customers/<cid>")
def customer(acct: str, cid: str) -> str:
    """One customer as the API returns it with its tax ids expanded: what the app's
    "Open in Stripe" shows in sandbox mode, as Stripe's Dashboard would."""
    cust = json.loads(sandbox().store.retrieve_customer(acct, cid, {"expand": ["tax_ids"]}))
    return render_template(
        "customer.html",
        account=sandbox().store.account(acct),
        cust=cust,
        pretty=json.dumps(cust, indent=2, ensure_ascii=False),
        tax_types=list(TAX_TYPES),
    )


@bp.post("/accounts/<acct>/customers/<cid>/fields")
def update_fields(acct: str, cid: str) -> Response:
    """Change the fields beyond name and email, as the Dashboard's edit form does."""
    params = {k: request.form.get(k, "").strip() for k in ("phone", "description", "tax_exempt")}
    key = request.form.get("metadata_key", "").strip()
    if key:
        params["metadata"] = {key: request.form.get("metadata_value", "").strip()}
    sandbox().store.update_customer(acct, cid, params)
    return redirect(url_for("page.customer", acct=acct, cid=cid))


@bp.post("/accounts/<acct>/customers/<cid>/tax_ids")
def add_tax_id(acct: str, cid: str) -> Response:
    params = {k: request.form.get(k, "").strip() for k in ("type", "value")}
    sandbox().store.create_tax_id(acct, cid, params)
    return redirect(url_for("page.customer", acct=acct, cid=cid))


@bp.post("/accounts/<acct>/customers/<cid>/tax_ids/<txi>/delete")
def delete_tax_id(acct: str, cid: str, txi: str) -> Response:
    sandbox().store.delete_tax_id(acct, cid, txi)
    return redirect(url_for("page.customer", acct=acct, cid=cid))


@bp.post("/accounts/<acct>/customers/<cid>/delete")
def delete_customer(acct: str, cid: str) -> Response:
    sandbox().store.delete_customer(acct, cid)
    return redirect(url_for("page.index", account=acct))


@bp.post("/accounts/<acct>/revoke")
def revoke(acct: str) -> Response:
    sandbox().store.revoke(acct)
    return redirect(url_for("page.index", account=acct))


def _fields() -> dict[str, str]:
    return {k: request.form.get(k, "").strip() for k in ("name", "email") if k in request.form}
