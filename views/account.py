"""The owner's account page: change the password, and log out everywhere. Both end
every other session of the owner (server-side, so copies of old cookies die too)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from models.login_session import LoginSession
from models.password_hashing import HashingBusy
from models.passwords import MAX_LENGTH, MIN_LENGTH, password_problem
from views.auth import begin_session, login_required
from views.throttle import throttle

bp = Blueprint("account", __name__, cli_group=None)


def _page(errors: dict[str, str] | None = None, status: int = 200):
    return (
        render_template("account/index.html", errors=errors or {}, min_length=MIN_LENGTH),
        status,
    )


@bp.get("/settings/account")
@login_required
def index():
    return _page()


@bp.post("/settings/account/password")
@login_required
def change_password():
    """Check the current password (throttled like a login), set the new one, end every
    other session and keep this browser logged in with a fresh one."""
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    account_key = g.user.email.lower()
    if not throttle().allows("login-account", account_key):
        return _page({"current_password": "Too many wrong passwords: try again later."}, 429)
    try:
        right = len(current) <= MAX_LENGTH and g.user.check_password(current)
    except HashingBusy as busy:
        return _page({"current_password": str(busy)}, 429)
    if not right:
        throttle().count("login-account", account_key)
        return _page({"current_password": "That is not your current password."}, 400)
    problem = password_problem(new, g.user.email)
    if problem is None and new != request.form.get("confirm_password", ""):
        problem = "The two new passwords differ."
    if problem:
        return _page({"new_password": problem}, 400)
    try:
        g.user.set_password(new)
    except HashingBusy as busy:
        return _page({"new_password": str(busy)}, 429)
    g.user.save()
    ended = LoginSession.end_all(g.user) - 1
    begin_session(g.user)
    flash(f"Your password is changed. {max(ended, 0)} other sessions were logged out.")
    return redirect(url_for("account.index"))


@bp.post("/settings/account/logout-everywhere")
@login_required
def logout_everywhere():
    """End every session of this owner, this one included."""
    LoginSession.end_all(g.user)
    session.clear()
    flash("You are logged out on every device.")
    return redirect(url_for("auth.login"))
