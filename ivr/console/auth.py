"""Logging in and out of the console, with failed log-ins slowed down.

    GET  /console/login    the form
    POST /console/login    check the name and password (CSRF-protected like every form)
    POST /console/logout   end the session

After :data:`MAX_PER_ACCOUNT` failures for one account, or :data:`MAX_PER_ADDRESS` from one
address, within :data:`WINDOW`, further attempts get 429 without the password being checked.
Each attempt is written down *before* its password is checked (and forgotten if it was right),
so attempts sent in parallel cannot all slip under the limit; a name with no account costs the
same argon2 check as one with, so timing does not tell which names exist.
Failures are rows in the database (every web process counts the same); Flask-Limiter, the
ecosystem's limiter, keeps its counts in memory or Redis, neither of which this deployment
has, and cannot count only *failed* attempts per account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ivr.console import passwords
from ivr.console.users import ConsoleUser, user
from ivr.parts import Parts
from ivr.store import AccountStore, AgentStates, Presence
from ivr.wiring import use

log = logging.getLogger(__name__)

blueprint = Blueprint("auth", __name__)

WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 20


class LoginForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no type hints
    """Name and password."""

    name = StringField("Name", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


@dataclass(frozen=True)
class Throttle:
    """Whether a log-in may be tried now, and if not, why."""

    allowed: bool
    reason: str = ""


def throttle(accounts: AccountStore, name: str, address: str) -> Throttle:
    """Too many recent failures for this account, or from this address (this attempt counted)?"""
    since = use(Parts).clock() - WINDOW
    per_account, per_address = accounts.failures_since(since, name=name, address=address)
    minutes = int(WINDOW.total_seconds() // 60)
    if per_account > MAX_PER_ACCOUNT:
        return Throttle(
            False, f"Too many failed log-ins for this account: try again in {minutes} minutes."
        )
    if per_address > MAX_PER_ADDRESS:
        return Throttle(
            False, f"Too many failed log-ins from here: try again in {minutes} minutes."
        )
    return Throttle(True)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | BaseResponse | tuple[str, int, dict[str, str]]:
    """Show the form; on a valid name and password, start a session."""
    form = LoginForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("login.html", form=form), status, {}
    parts = use(Parts)
    accounts = AccountStore(parts.call_store())
    name, address = (form.name.data or "").strip(), request.remote_addr or "unknown"
    password = form.password.data or ""
    accounts.login_failed(name, address, parts.clock())  # until the password proves otherwise
    limit = throttle(accounts, name, address)
    if not limit.allowed:
        log.warning("console log-in throttled", extra={"account": name, "remote": address})
        flash(limit.reason, "error")
        headers = {"Retry-After": str(int(WINDOW.total_seconds()))}
        return render_template("login.html", form=form), 429, headers
    account = accounts.get(name)
    known_hash = account.password_hash if account is not None else passwords.unknown_account()
    if not passwords.verify(known_hash, password) or account is None or account.disabled:
        log.warning("console log-in failed", extra={"account": name, "remote": address})
        flash("That name and password do not match an account.", "error")
        return render_template("login.html", form=form), 401, {}
    accounts.login_succeeded(name)
    if passwords.needs_rehash(account.password_hash):
        account = accounts.set_password(name, passwords.hash_password(password), parts.clock())
    session.clear()  # nothing from before the log-in carries over
    session.permanent = True
    login_user(ConsoleUser(account))
    if account.role == "agent":
        AgentStates(parts.call_store()).set_presence(name, Presence.AVAILABLE, parts.clock())
    log.info("console log-in", extra={"account": name, "remote": address})
    return redirect(_next_page())


@blueprint.post("/logout")
def logout() -> BaseResponse:
    """End the session; an agent goes offline (callers are no longer put through to them)."""
    if getattr(user(), "role", None) == "agent":
        parts = use(Parts)
        AgentStates(parts.call_store()).set_presence(user().name, Presence.OFFLINE, parts.clock())
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("console.auth.login"))


def _next_page() -> str:
    """Where to go after logging in: the page asked for, if it is one of ours."""
    wanted = request.args.get("next", "")
    if wanted.startswith("/console/") and not wanted.startswith("//"):
        return wanted
    return url_for("console.agent.home")
