"""Log in, log out, and the login requirement every dashboard page shares."""

from __future__ import annotations

import functools
import secrets
from urllib.parse import urlsplit

import click
from flask import Blueprint, Flask, flash, g, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from models.business import Business
from models.user import User

bp = Blueprint("auth", __name__, cli_group=None)


def init_app(app: Flask) -> None:
    app.before_request(_load_owner)


def _load_owner() -> None:
    """Put the logged-in owner and their primary business on ``g``: every query of
    the dashboard is scoped to ``g.business``."""
    g.user = g.business = None
    user_id = session.get("user_id")
    if user_id is not None:
        g.user = User.get_or_none(User.id == user_id)
        g.business = Business.primary_for(g.user) if g.user else None


def login_required(view):
    """Send anonymous visitors to the login page, and back here afterwards."""

    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None or g.business is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(**kwargs)

    return wrapped


def _safe_next(target: str | None) -> str:
    """Only same-site paths: ``next`` must never send the owner to another host.
    Browsers read a backslash as a slash (``/\\evil.test`` is ``//evil.test``) and
    drop tabs and newlines, and CR/LF would split the Location header: all refused."""
    if target and target.startswith("/") and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("customers.index")


@functools.cache
def _decoy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def _password_matches(user: User | None, password: str) -> bool:
    """An unknown email pays for one password hash too, so the answer's timing does
    not tell which emails have an account."""
    if user is None:
        check_password_hash(_decoy_hash(), password)
        return False
    return user.check_password(password)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; on success start a fresh session (no fixation)."""
    error = None
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        password = request.form.get("password", "")
        user = User.by_email(email) if email else None
        if not email or not password:
            error = "Enter your email and password."
        elif not _password_matches(user, password):
            error = "That email and password do not match an account."
        else:
            session.clear()
            session["user_id"] = user.id
            return redirect(_safe_next(request.args.get("next")))
    status = 400 if error else 200
    return render_template("auth/login.html", error=error, email=email), status


@bp.post("/logout")
def logout():
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))


@bp.cli.command("create-owner")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--business", "business_name", default="My business", show_default=True)
def create_owner(email: str, password: str, business_name: str) -> None:
    """Create an owner who can log in, with their primary business."""
    if "@" not in email:
        raise click.BadParameter("must be an email address", param_hint="--email")
    if len(password) < 8:
        raise click.BadParameter("must be at least 8 characters", param_hint="--password")
    if User.by_email(email):
        raise click.ClickException(f"an owner with email {email} already exists")
    user = User.create_owner(email, password, business_name)
    click.echo(f"Created owner {user.email} with primary business {business_name!r}.")
