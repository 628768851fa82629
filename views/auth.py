"""Log in, log out, and the login requirement every dashboard page shares."""

from __future__ import annotations

import functools
import secrets
from urllib.parse import urlsplit

import click
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.security import generate_password_hash

from models.business import Business
from models.customer import EMAIL_MAX
from models.login_session import LoginSession
from models.password_hashing import HashingBusy, password_matches
from models.passwords import MAX_LENGTH, MIN_LENGTH, email_problem, password_problem
from models.user import User
from views.throttle import throttle

bp = Blueprint("auth", __name__, cli_group=None)

_SESSION_KEY = "login"


def init_app(app: Flask) -> None:
    app.before_request(_load_owner)


def _load_owner() -> None:
    """Put the logged-in owner and their primary business on ``g``: every query of
    the dashboard is scoped to ``g.business``."""
    g.user = g.business = None
    if _SESSION_KEY in session:
        g.user = LoginSession.user_for(session[_SESSION_KEY])
        if g.user is None:  # ended by logout, a password change, or expired
            session.clear()
        else:
            g.business = Business.primary_for(g.user)


def begin_session(user: User) -> None:
    """A fresh session for ``user`` (a new cookie: no fixation), recorded server-side."""
    session.clear()
    session[_SESSION_KEY] = LoginSession.begin(user)


def end_session() -> None:
    """End this browser's session for good, copies of its cookie included."""
    LoginSession.end(session.get(_SESSION_KEY))
    session.clear()


def _to_login():
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def login_required(view):
    """Owner pages: send anonymous visitors to the login page, and back here
    afterwards. Support staff have no business, so these pages do not exist for them
    (404): they see a business only through the support console."""

    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is not None and g.user.is_support:
            abort(404)
        if g.user is None or g.business is None:
            return _to_login()
        return view(**kwargs)

    return wrapped


def support_required(view):
    """Support console pages: anonymous visitors log in first; for anyone who is not
    support staff, owners included, the console does not exist (404)."""

    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None:
            return _to_login()
        if not g.user.is_support:
            abort(404)
        return view(**kwargs)

    return wrapped


def home_for(user: User) -> str:
    """Where a logged-in user starts: the console for support, the list for owners."""
    return url_for("support.index" if user.is_support else "customers.index")


def _safe_next(target: str | None, user: User) -> str:
    """Only same-site paths: ``next`` must never send the user to another host, nor
    support staff to an owner page (which would be a 404).
    Browsers read a backslash as a slash (``/\\evil.test`` is ``//evil.test``) and
    drop tabs and newlines, and CR/LF would split the Location header: all refused."""
    if target and target.startswith("/") and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        same_site = not parts.scheme and not parts.netloc
        if same_site and (not user.is_support or parts.path.startswith(url_for("support.index"))):
            return target
    return home_for(user)


@functools.cache
def _decoy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def _password_matches(user: User | None, password: str) -> bool:
    """An unknown email pays for one password hash too, so the answer's timing does
    not tell which emails have an account."""
    if user is None:
        password_matches(_decoy_hash(), password)
        return False
    return user.check_password(password)


def _throttled(email: str) -> tuple[str, int] | None:
    """Why this attempt is refused before any password is checked, and for how many
    seconds; None when it may go on. Only failures count, so an owner who types their
    password right is never slowed."""
    limits = throttle()
    for name, key, whose in (
        ("login-address", request.remote_addr or "-", "from your address"),
        ("login-account", email.lower(), "for this account"),
    ):
        if not limits.allows(name, key):
            wait = limits.retry_after(name, key)
            return f"Too many failed logins {whose}. Try again in {wait} seconds.", wait
    return None


def _count_failure(email: str) -> None:
    throttle().count("login-address", request.remote_addr or "-")
    if email:
        throttle().count("login-account", email.lower())


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; on success start a fresh session (no fixation)."""
    if request.method != "POST":
        return render_template("auth/login.html", error=None, email="")
    email = request.form.get("email", "").strip()[:EMAIL_MAX]
    password = request.form.get("password", "")
    refused = _throttled(email)
    if refused:
        return _login_error(refused[0], email, 429, retry_after=refused[1])
    if not email or not password:
        return _login_error("Enter your email and password.", email, 400)
    user = User.by_email(email)
    try:
        matches = len(password) <= MAX_LENGTH and _password_matches(user, password)
    except HashingBusy as busy:
        return _login_error(str(busy), email, 429, retry_after=1)
    if not matches:
        _count_failure(email)
        return _login_error("That email and password do not match an account.", email, 400)
    begin_session(user)
    return redirect(_safe_next(request.args.get("next"), user))


def _login_error(message: str, email: str, status: int, *, retry_after: int | None = None):
    response = current_app.make_response(
        (render_template("auth/login.html", error=message, email=email), status)
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.post("/logout")
def logout():
    end_session()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))


@bp.cli.command("create-owner")
@click.option("--email", required=True)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help=f"At least {MIN_LENGTH} characters, not a common password (prompted if omitted).",
)
@click.option("--business", "business_name", default="My business", show_default=True)
def create_owner(email: str, password: str, business_name: str) -> None:
    """Create an owner who can log in, with their primary business."""
    problem = email_problem(email)
    if problem:
        raise click.BadParameter(problem, param_hint="--email")
    problem = password_problem(password, email)
    if problem:
        raise click.BadParameter(problem, param_hint="--password")
    if User.by_email(email):
        raise click.ClickException(f"an owner with email {email} already exists")
    user = User.create_owner(email, password, business_name)
    click.echo(f"Created owner {user.email} with primary business {business_name!r}.")
