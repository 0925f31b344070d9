"""``ivr users``: the console's accounts.

    ivr users add alice --role agent          # the password is asked for, twice
    echo "$PASSWORD" | ivr users add sam --role supervisor --password-stdin
    ivr users list
    ivr users disable alice                   # (--enable to undo)
    ivr users passwd alice

An agent's account name is their agent id in ``flows/people.yaml``: that is how the console's
presence reaches routing.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from ivr.config import load_config

if TYPE_CHECKING:
    from ivr.store import AccountStore

ROLES = ("agent", "supervisor")


@click.group("users")
def users() -> None:
    """Console accounts: agents and supervisors."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may see.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add_command(name: str, role: str, password_stdin: bool) -> None:
    """Create an account."""
    from ivr.console.passwords import WeakPassword, hash_password
    from ivr.store import AccountError

    if not 1 <= len(name) <= 64 or not name.replace("_", "").replace("-", "").isalnum():
        raise SystemExit("users: a name is 1 to 64 letters, digits, '-' or '_'")
    password = _password(password_stdin)
    try:
        account = _accounts().add(name, role, hash_password(password), _now())
    except (AccountError, WeakPassword) as error:
        raise SystemExit(f"users: {error}") from None
    click.echo(f"added {account.name} ({account.role})")
    if role == "agent":
        _warn_if_not_an_agent(name)


@users.command("list")
def list_command() -> None:
    """Every account: name, role, and whether it is disabled."""
    for account in _accounts().list():
        state = "disabled" if account.disabled else "active"
        click.echo(f"{account.name:<24} {account.role:<11} {state}")


@users.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable it again instead.")
def disable_command(name: str, enable: bool) -> None:
    """Stop an account logging in (its open sessions end too)."""
    from ivr.store import AccountError

    try:
        account = _accounts().set_disabled(name, not enable, _now())
    except AccountError as error:
        raise SystemExit(f"users: {error}") from None
    click.echo(f"{account.name} is {'disabled' if account.disabled else 'enabled'}")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def passwd_command(name: str, password_stdin: bool) -> None:
    """Set a new password (the account's open sessions end)."""
    from ivr.console.passwords import WeakPassword, hash_password
    from ivr.store import AccountError

    password = _password(password_stdin)
    try:
        _accounts().set_password(name, hash_password(password), _now())
    except (AccountError, WeakPassword) as error:
        raise SystemExit(f"users: {error}") from None
    click.echo(f"new password set for {name}")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise SystemExit("users: the password is empty")
    return str(password)


def _accounts() -> AccountStore:
    from ivr.store import AccountStore, SchemaOutOfDate, Store, StoreUnavailable, database_url

    try:
        return AccountStore(Store(database_url(load_config()["DATABASE_URL"])))
    except (StoreUnavailable, SchemaOutOfDate) as error:
        raise SystemExit(f"users: {error}") from None


def _warn_if_not_an_agent(name: str) -> None:
    from bot.flow import FlowError, load_flow

    try:
        flow = load_flow(load_config()["FLOWS"])
    except FlowError:
        return
    if name not in flow.agents:
        known = ", ".join(flow.agents) or "none"
        click.echo(
            f"note: {name!r} is not an agent in the flows (agents: {known}); routing uses the "
            "presence of agents by their id",
            err=True,
        )


def _now() -> datetime:
    return datetime.now(UTC)
