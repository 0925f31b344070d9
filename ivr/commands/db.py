"""``ivr db``: the version of the database's tables, and migrating them.

    ivr db current              # its revision, and whether this code can use it
    ivr db upgrade              # migrate it to this code's revision
    ivr db revision -m "..."    # write the next migration from ivr/store/schema.py

The database is the one the app and the worker use: ``DATABASE_URL``, else SQLite in the data
folder (docs/storage.md). They refuse to start on tables behind the code until ``ivr db upgrade``
has run; a new, empty database needs nothing (the first start creates its tables).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from ivr.config import load_config

if TYPE_CHECKING:
    from ivr.store.database import Database
    from ivr.store.migrate import SchemaState, Upgrade


@click.group("db")
def db() -> None:
    """The database's tables: their version, and migrating them."""
    if logging.getLogger().getEffectiveLevel() == logging.INFO:
        # Alembic's INFO lines ("Context impl ...") repeat what the commands print.
        logging.getLogger("alembic").setLevel(logging.WARNING)


@db.command("current")
@click.option("--check", is_flag=True, help="Exit 1 unless the database is up to date.")
def current_command(check: bool) -> None:
    """Print the database's revision and whether it is up to date."""
    from ivr.store import StoreUnavailable
    from ivr.store.migrate import schema_state

    database = _database("current")
    try:
        state = schema_state(database)
    except StoreUnavailable as error:
        raise SystemExit(f"ivr db current: {error}") from None
    finally:
        database.close()
    _echo("database", database.url)
    _echo("revision", _revision(state))
    _echo("head", _describe(state.head))
    _echo("status", _status(state, database.url))
    if check and not state.up_to_date:
        raise SystemExit(1)


@db.command("upgrade")
def upgrade_command() -> None:
    """Migrate the database to this code's revision, printing each step.

    A database from before migrations (a ``schema_version`` table) is adopted first; an empty
    one gets every table at once.
    """
    from ivr.store import StoreUnavailable, UnknownSchema
    from ivr.store.migrate import upgrade

    database = _database("upgrade")
    try:
        result = upgrade(database)
    except (StoreUnavailable, UnknownSchema) as error:
        raise SystemExit(f"ivr db upgrade: {error}") from None
    finally:
        database.close()
    _echo("database", database.url)
    _echo("found", result.before.found)
    _report(result)


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does, in a few words.")
@click.option("--empty", is_flag=True, help="Write an empty one to fill in by hand (data moves).")
def revision_command(message: str, empty: bool) -> None:
    """Write the next migration: what ivr/store/schema.py has that the migrations lack."""
    from ivr.store.migrate import new_revision

    path = new_revision(message, autogenerate=not empty)
    if path is None:
        raise SystemExit(
            "ivr db revision: the migrations already build the tables of ivr/store/schema.py; "
            "nothing written (--empty writes one to fill in by hand)"
        )
    click.echo(f"wrote {path}")
    click.echo("read it (and `ruff format` it), then try it with `ivr db upgrade`")


def _database(command: str) -> Database:
    """The configured database, or exit with why it cannot be opened."""
    from ivr.store import StoreUnavailable, database_url
    from ivr.store.database import Database

    config = load_config()
    try:
        return Database(database_url(config["DATABASE_URL"]))
    except (StoreUnavailable, ValueError) as error:
        raise SystemExit(f"ivr db {command}: {error}") from None


def _report(result: Upgrade) -> None:
    from ivr.store.migrate import head_revision

    if result.created:
        _echo("created", "every table, as this code writes them")
    if result.adopted is not None:
        _echo("adopted", f"stamped {_describe(result.adopted)}; dropped schema_version")
    for revision in result.applied:
        _echo("applied", _describe(revision))
    if not (result.created or result.adopted or result.applied):
        _echo("changed", "nothing")
    _echo("now at", f"{_describe(head_revision())} (up to date)")


def _revision(state: SchemaState) -> str:
    if state.revisions:
        return ", ".join(_describe(revision) for revision in state.revisions)
    return f"none ({state.found})"


def _status(state: SchemaState, url: str) -> str:
    from ivr.store import UnknownSchema

    if state.up_to_date:
        return "up to date"
    if state.empty:
        return "empty: the first start, or `ivr db upgrade`, creates the tables"
    problem = state.problem(url)
    if isinstance(problem, UnknownSchema):
        return "unusable: " + str(problem)
    return "behind: run `ivr db upgrade`"


def _describe(revision: str) -> str:
    from ivr.store.migrate import describe, known_revisions

    if revision not in known_revisions():
        return f"{revision} (unknown to this code)"
    return describe(revision)


def _echo(label: str, text: str) -> None:
    click.echo(f"{label + ':':<10}{text}")
