"""Who is logged in to the console: Flask-Login's user, loaded from the accounts table.

The session holds ``<account id>:<tail of the password hash>``, so changing a password (or
disabling the account) ends every session signed in with the old one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort
from flask_login import LoginManager, UserMixin, current_user

from ivr.parts import Parts
from ivr.store import Account, AccountStore, StoreUnavailable
from ivr.wiring import use

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

login_manager = LoginManager()
login_manager.login_view = "console.auth.login"
login_manager.login_message = "Log in to open that page."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"  # a session taken to another browser is dropped


class ConsoleUser(UserMixin):  # type: ignore[misc]  # flask-login ships no type hints
    """A logged-in account."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.name = account.name
        self.role = account.role

    @property
    def is_supervisor(self) -> bool:
        """Supervisors see the dashboard and every agent's page."""
        return self.account.is_supervisor

    def get_id(self) -> str:
        """The session's key: the account and a piece of its password hash."""
        return session_key(self.account)


def session_key(account: Account) -> str:
    """What the session cookie stores for ``account``."""
    return f"{account.id}:{account.password_hash[-12:]}"


@login_manager.user_loader  # type: ignore[untyped-decorator]  # flask-login: no type hints
def load_user(key: str) -> ConsoleUser | None:
    """The account behind a session, if it still exists, is enabled and has that password."""
    number, _, tail = key.partition(":")
    if not number.isdigit():
        return None
    try:
        account = AccountStore(use(Parts).call_store()).by_id(int(number))
    except StoreUnavailable as error:
        log.error("console session not checked: database down", extra={"error": str(error)})
        return None
    if account is None or account.disabled or session_key(account) != key or not tail:
        return None
    return ConsoleUser(account)


def user() -> ConsoleUser:
    """The logged-in user (on pages that require one)."""
    found = current_user._get_current_object()
    assert isinstance(found, ConsoleUser)
    return found


def supervisor_only(view: Callable[P, R]) -> Callable[P, R]:
    """Refuse (403) a page to anyone but a supervisor."""

    @wraps(view)
    def check(*args: P.args, **kwargs: P.kwargs) -> R:
        if not user().is_supervisor:
            abort(403, "this page is for supervisors")
        return view(*args, **kwargs)

    return check
