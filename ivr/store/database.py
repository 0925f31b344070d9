"""The database: which one (:func:`database_url`), its engine, sessions, and its errors.

:class:`Database` is what the repositories (:class:`~ivr.store.calls.Store`,
:class:`~ivr.store.callbacks.CallbackStore`) share: short sessions (:meth:`Database.write`,
:meth:`Database.read`), each turning any SQLAlchemy or driver error into
:class:`~ivr.store.errors.StoreUnavailable` that names the operation and the URL with the
password masked, and :meth:`Database.locked`, the connection that creates or migrates tables one
process at a time. It knows nothing of the tables (see :mod:`ivr.store.migrate`).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ivr.store.errors import StoreUnavailable

logger = logging.getLogger(__name__)

_PSYCOPG_SCHEMES = ("postgres://", "postgresql://")
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Any constant will do: it serialises table creation between processes starting together.
_SCHEMA_LOCK_KEY = 0x1F0_57_0E


def database_url(config_value: str | None = None) -> str:
    """The database to use: ``$DATABASE_URL``, else ``config_value``, else SQLite in the data dir.

    The default is ``sqlite:///<data dir>/ivr.db``, the data dir being ``$IVR_DATA_DIR``, else
    ``$XDG_DATA_HOME/ivr``, else ``~/.local/share/ivr``; it is created if missing.
    ``postgres://`` and ``postgresql://`` (as hosting providers hand them out) are rewritten to
    ``postgresql+psycopg://``, the psycopg 3 driver this project installs.

    Raises:
        StoreUnavailable: If the default data directory cannot be created.
    """
    raw = os.environ.get("DATABASE_URL") or config_value
    if not raw:
        folder = data_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreUnavailable(
                "create the data directory", f"sqlite:///{folder}/ivr.db", str(error)
            ) from error
        raw = f"sqlite:///{folder}/ivr.db"
    return with_psycopg(raw)


def data_dir() -> Path:
    """Local data: ``$IVR_DATA_DIR``, else ``$XDG_DATA_HOME/ivr``, else ``~/.local/share/ivr``."""
    explicit = os.environ.get("IVR_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser().absolute()
    base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return Path(base).absolute() / "ivr"


def with_psycopg(url: str) -> str:
    """``url`` with a bare PostgreSQL scheme pointed at psycopg 3."""
    for scheme in _PSYCOPG_SCHEMES:
        if url.lower().startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def aware(value: datetime, name: str) -> datetime:
    """``value`` in UTC; a naive datetime is a bug in the caller, not something to guess at."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}={value.isoformat()} is naive; pass a timezone-aware datetime")
    return value.astimezone(UTC)


def jsonable(value: Any, what: str) -> Any:
    """``value`` unchanged if JSON can hold it (no NaN: PostgreSQL refuses it), else TypeError."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} is not JSON-serialisable: {error}") from error
    return value


class Database:
    """One SQLite file or PostgreSQL database (or schema in it); safe to share between threads.

    Args:
        url: A SQLAlchemy URL, usually from :func:`database_url`: ``sqlite:///path`` (a file) or
            ``postgresql://...`` (psycopg 3 is used whatever the scheme says).
        connect_timeout: Seconds to wait for a connection: PostgreSQL's connect timeout, SQLite's
            busy timeout, and the wait for a free pooled connection.
        schema: PostgreSQL only: keep the tables in this schema (created by :meth:`locked` if
            missing) instead of ``public``, through ``search_path``.

    Raises:
        ValueError: For an unsupported URL (another database, in-memory SQLite, which is private
            to each connection) or an invalid schema name.
    """

    def __init__(
        self, url: str, *, connect_timeout: float = 3.0, schema: str | None = None
    ) -> None:
        try:
            parsed = make_url(with_psycopg(url))
        except SQLAlchemyError as error:
            # Not echoed: an unparsable URL may still contain a password.
            raise ValueError(f"not a database URL: {error.__class__.__name__}") from None
        #: The URL for display, password masked.
        self.url: str = parsed.render_as_string(hide_password=True)
        #: The PostgreSQL schema the tables live in (None: the default one).
        self.schema = schema
        self._secrets = _secrets_of(parsed)
        self._closed = False
        self._engine = self._create_engine(parsed, connect_timeout)

    def __repr__(self) -> str:
        return f"Database({self.url!r})"

    @property
    def is_postgres(self) -> bool:
        """PostgreSQL (row locks, ``SKIP LOCKED``); otherwise SQLite (one writer at a time)."""
        return self._engine.dialect.name == "postgresql"

    # -- sessions -------------------------------------------------------------------------

    @contextmanager
    def guard(self, operation: str, key: str | None = None) -> Iterator[None]:
        """Turn any SQLAlchemy or driver error into :class:`StoreUnavailable`, logged.

        ``key`` (a call or callback id) goes into the log record as ``call_id``.
        """
        if self._closed:
            raise StoreUnavailable(operation, self.url, "the store is closed")
        try:
            yield
        except SQLAlchemyError as error:
            detail = self._describe(error)
            logger.warning(
                "store %s failed: %s", operation, detail, extra={"call_id": key, "url": self.url}
            )
            raise StoreUnavailable(operation, self.url, detail) from error

    @contextmanager
    def write(
        self, operation: str, key: str | None = None, *, immediate: bool = False
    ) -> Iterator[Session]:
        """A session whose transaction commits when the block ends (rolls back on error).

        ``immediate``: the transaction reads then writes what it read. SQLite then takes the
        write lock first (``BEGIN IMMEDIATE``): a deferred transaction that reads and then
        writes fails at once ("database is locked") when another writer got there first.
        PostgreSQL callers lock their rows with ``SELECT ... FOR UPDATE`` instead.
        """
        with self.guard(operation, key), Session(self._engine) as session, session.begin():
            if immediate and not self.is_postgres:
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session

    @contextmanager
    def read(self, operation: str, key: str | None = None) -> Iterator[Session]:
        """A session for reading; nothing it does is committed."""
        with self.guard(operation, key), Session(self._engine) as session:
            yield session

    @contextmanager
    def connect(self, operation: str) -> Iterator[Connection]:
        """A plain connection (inspecting tables, say); nothing is committed."""
        with self.guard(operation), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def locked(self, operation: str, *, migrating: bool = False) -> Iterator[Connection]:
        """A connection in a transaction no other process's :meth:`locked` runs beside.

        ``BEGIN IMMEDIATE`` in SQLite; a transaction-scoped advisory lock in PostgreSQL, after
        which the schema is created if missing. Commits when the block ends (rolls back on
        error): for creating and migrating tables.

        ``migrating``: SQLite changes most of a table only by copying it and dropping the old
        one, and dropping a table with foreign keys on deletes the rows that refer to it
        (``ON DELETE CASCADE``). So foreign keys are switched off (SQLite allows it only outside
        a transaction) and the connection is discarded afterwards, never pooled without them.
        """
        with self.guard(operation), self._engine.connect() as conn:
            sqlite_migration = migrating and not self.is_postgres
            try:
                self._lock(conn, foreign_keys=not sqlite_migration)
                yield conn
                conn.commit()
            finally:
                if sqlite_migration:
                    conn.invalidate()

    def _lock(self, conn: Connection, *, foreign_keys: bool) -> None:
        if not self.is_postgres:
            if not foreign_keys:
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
        if self.schema is not None:
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')

    def insert(self, table: Any) -> postgresql.Insert | sqlite.Insert:
        """An INSERT into ``table`` that can say ON CONFLICT, in this database's dialect."""
        return postgresql.insert(table) if self.is_postgres else sqlite.insert(table)

    def ping(self) -> None:
        """Return if the database answers a query; raise :class:`StoreUnavailable` if not."""
        with self.read("ping") as session:
            session.execute(text("SELECT 1"))

    def close(self) -> None:
        """Close every pooled connection; later calls raise :class:`StoreUnavailable`."""
        self._closed = True
        self._engine.dispose()

    # -- plumbing -------------------------------------------------------------------------

    def _describe(self, error: SQLAlchemyError) -> str:
        """The driver's first line (SQLAlchemy's own text adds SQL and parameters), no secrets."""
        origin = getattr(error, "orig", None)
        message = str(origin if origin is not None else error).strip()
        line = message.splitlines()[0] if message else error.__class__.__name__
        for secret in self._secrets:
            line = line.replace(secret, "***")
        return line

    def _create_engine(self, url: URL, connect_timeout: float) -> Engine:
        backend = url.get_backend_name()
        schema = self.schema
        if schema is not None and (backend != "postgresql" or not _SCHEMA_NAME.fullmatch(schema)):
            raise ValueError(
                f"schema={schema!r}: a schema needs PostgreSQL and a lower-case identifier"
            )
        with self.guard("connect"):
            if backend == "sqlite":
                return self._sqlite_engine(url, connect_timeout)
            if backend == "postgresql":
                return _postgres_engine(url, connect_timeout, schema)
        raise ValueError(f"{self.url}: unsupported database {backend!r}; use SQLite or PostgreSQL")

    def _sqlite_engine(self, url: URL, connect_timeout: float) -> Engine:
        if url.database in (None, "", ":memory:") or url.query.get("mode") == "memory":
            raise ValueError(
                f"{self.url}: in-memory SQLite is private to each connection and cannot "
                "be shared between threads; use a file"
            )
        engine = create_engine(
            url,
            pool_timeout=connect_timeout,
            connect_args={"check_same_thread": False, "timeout": connect_timeout},
        )
        event.listen(engine, "connect", functools.partial(_sqlite_on_connect, connect_timeout))
        return engine


def _postgres_engine(url: URL, connect_timeout: float, schema: str | None) -> Engine:
    connect_args: dict[str, Any] = {
        # libpq's connect_timeout is whole seconds.
        "connect_timeout": max(1, math.ceil(connect_timeout)),
    }
    if schema is not None:
        connect_args["options"] = f"-csearch_path={schema}"
    return create_engine(
        url, pool_pre_ping=True, pool_timeout=connect_timeout, connect_args=connect_args
    )


def _sqlite_on_connect(timeout: float, dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers work while a call writes; foreign keys are off by default in SQLite."""
    cursor = dbapi_connection.cursor()
    try:
        # Switching a new file to WAL needs an exclusive lock, and SQLite answers "database is
        # locked" at once, without its busy timeout, when another connection is opening it too.
        deadline = time.monotonic() + timeout
        while True:
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, much faster
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _secrets_of(url: URL) -> tuple[str, ...]:
    """The password as it may appear in a driver message: plain and percent-encoded."""
    password = url.password
    if not password:
        return ()
    return tuple({str(password), quote(str(password), safe="")})
