"""Alembic's environment for :mod:`ivr.store`, run on a connection :mod:`ivr.store.migrate` holds.

There is no ``alembic.ini``: ``ivr db upgrade`` and ``ivr db revision`` build the configuration in
code and hand this file the connection (``config.attributes["connection"]``) inside the
transaction that holds the schema lock; that transaction commits once every step has run.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection

from ivr.store.schema import Base, UTCDateTime


def render_item(kind: str, obj: Any, _autogen_context: Any) -> str | Literal[False]:
    """Write :class:`UTCDateTime` as the column type it creates: migrations never import models."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    """Configure the context on the handed connection and run what the command asked for."""
    attributes = context.config.attributes
    connection = attributes.get("connection")
    if context.is_offline_mode() or not isinstance(connection, Connection):
        raise RuntimeError(
            "ivr's migrations run through `ivr db upgrade` and `ivr db revision`, "
            "which hand them a connection (see docs/storage.md)"
        )
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        render_as_batch=True,  # SQLite alters most things only by copying the table
        render_item=render_item,
        on_version_apply=attributes.get("on_version_apply", ()),
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
