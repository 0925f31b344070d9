"""Calls, turns and events in SQLite or PostgreSQL, behind one thread-safe :class:`Store`.

Usage::

    store = Store(database_url(config.get("DATABASE_URL")))   # creates the tables if missing
    store.call_started("CA123", caller="+420...", called="+420...", started_at=now)
    store.add_turn("CA123", TurnRecord(index=0, at=now, step="greet", kind="start"))
    store.call_ended("CA123", ended_at=later, status="completed")
    store.get_call("CA123")        # -> CallRecord with turns and events

Each method runs in its own session and transaction, so many call threads can share one store.
Every database failure comes out as :class:`StoreUnavailable`, naming the operation and the URL
with the password masked; bad arguments (naive datetimes, data JSON cannot hold) raise
``ValueError``/``TypeError`` before the database is touched. Writes for a call the store has not
seen yet create it, because Twilio's webhooks, the media stream and the status callback race.
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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    Engine,
    and_,
    case,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from ivr.store.records import CallRecord, EventRecord, TurnRecord
from ivr.store.schema import SCHEMA_VERSION, Base, CallRow, EventRow, SchemaVersionRow, TurnRow

logger = logging.getLogger(__name__)

_PSYCOPG_SCHEMES = ("postgres://", "postgresql://")
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Any constant will do: it serialises table creation between processes starting together.
_CREATE_LOCK_KEY = 0x1F0_57_0E


class StoreUnavailable(RuntimeError):
    """The database could not be reached, read or written.

    Attributes:
        operation: What the store was doing, e.g. ``"add_turn"``.
        url: The database URL with its password masked.
        detail: The database's own first line of explanation.
    """

    def __init__(self, operation: str, url: str, detail: str) -> None:
        super().__init__(f"store {operation} failed on {url}: {detail}")
        self.operation = operation
        self.url = url
        self.detail = detail


class TurnExists(StoreUnavailable):
    """A turn with this index is already stored for the call; the new one was not written."""


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
    return _with_psycopg(raw)


def data_dir() -> Path:
    """Local data: ``$IVR_DATA_DIR``, else ``$XDG_DATA_HOME/ivr``, else ``~/.local/share/ivr``."""
    explicit = os.environ.get("IVR_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser().absolute()
    base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return Path(base).absolute() / "ivr"


def _with_psycopg(url: str) -> str:
    for scheme in _PSYCOPG_SCHEMES:
        if url.lower().startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def _aware(value: datetime, name: str) -> datetime:
    """``value`` in UTC; a naive datetime is a bug in the caller, not something to guess at."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}={value.isoformat()} is naive; pass a timezone-aware datetime")
    return value.astimezone(UTC)


def _json(value: Any, what: str) -> Any:
    """``value`` unchanged if JSON can hold it (no NaN: PostgreSQL refuses it), else TypeError."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} is not JSON-serialisable: {error}") from error
    return value


class Store:
    """Call storage over SQLAlchemy; safe to share between threads.

    Args:
        url: A SQLAlchemy URL, usually from :func:`database_url`: ``sqlite:///path`` (a file) or
            ``postgresql://...`` (psycopg 3 is used whatever the scheme says).
        connect_timeout: Seconds to wait for a connection: PostgreSQL's connect timeout, SQLite's
            busy timeout, and the wait for a free pooled connection.
        schema: PostgreSQL only: keep the tables in this schema (created if missing) instead of
            ``public``, e.g. one schema per test run.

    Raises:
        ValueError: For an unsupported URL (another database, in-memory SQLite, which is private
            to each connection) or an invalid schema name.
        StoreUnavailable: If the database cannot be opened or its tables created, or it holds
            tables of another schema version.
    """

    def __init__(
        self, url: str, *, connect_timeout: float = 3.0, schema: str | None = None
    ) -> None:
        try:
            parsed = make_url(_with_psycopg(url))
        except SQLAlchemyError as error:
            # Not echoed: an unparsable URL may still contain a password.
            raise ValueError(f"not a database URL: {error.__class__.__name__}") from None
        #: The URL for display, password masked.
        self.url: str = parsed.render_as_string(hide_password=True)
        self._secrets = _secrets_of(parsed)
        self._closed = False
        self._engine = self._create_engine(parsed, connect_timeout, schema)
        try:
            self._create_tables(schema)
        except BaseException:
            self._engine.dispose()
            raise
        logger.info("store ready", extra={"url": self.url})

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writes ---------------------------------------------------------------------------

    def call_started(
        self,
        call_id: str,
        *,
        caller: str | None,
        called: str | None,
        started_at: datetime,
        language: str | None = None,
    ) -> None:
        """Record a new call. Repeating it (Twilio retries webhooks) changes nothing.

        A call already created by an earlier write gets the numbers and language it lacked and
        the earlier of the two start times.
        """
        started_at = _aware(started_at, "started_at")
        with self._write("call_started", call_id) as session:
            stmt = self._insert(CallRow).values(
                call_id=call_id,
                caller=caller,
                called=called,
                started_at=started_at,
                status="in-progress",
                language=language,
            )
            new = stmt.excluded
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[CallRow.call_id],
                    set_={
                        "caller": func.coalesce(CallRow.caller, new.caller),
                        "called": func.coalesce(CallRow.called, new.called),
                        "language": func.coalesce(CallRow.language, new.language),
                        "started_at": case(
                            (new.started_at < CallRow.started_at, new.started_at),
                            else_=CallRow.started_at,
                        ),
                    },
                )
            )

    def add_turn(self, call_id: str, turn: TurnRecord) -> None:
        """Store one turn of a call.

        Raises:
            TurnExists: If the call already has a turn with ``turn.index``.
            StoreUnavailable: If the database fails.
        """
        at = _aware(turn.at, "turn.at")
        what = f"turn {turn.index} of call {call_id}"
        row = TurnRow(
            call_id=call_id,
            turn_index=turn.index,
            at=at,
            step=turn.step,
            kind=turn.kind,
            text=turn.text,
            asr_confidence=turn.asr_confidence,
            intent=turn.intent,
            confidence=turn.confidence,
            decision=turn.decision,
            actions=_json(list(turn.actions), f"actions of {what}"),
            latency_ms=_json(dict(turn.latency_ms), f"latency_ms of {what}"),
        )
        try:
            with self._write("add_turn", call_id) as session:
                self._ensure_call(session, call_id, at)
                session.add(row)
                session.flush()
        except StoreUnavailable as error:
            if isinstance(error.__cause__, IntegrityError):
                raise TurnExists("add_turn", self.url, f"{what} is already stored") from None
            raise

    def add_event(self, call_id: str, event: EventRecord) -> None:
        """Store one event of a call (``event.data`` must be JSON-serialisable)."""
        at = _aware(event.at, "event.at")
        data = _json(dict(event.data), f"data of event {event.kind!r} of call {call_id}")
        with self._write("add_event", call_id) as session:
            self._ensure_call(session, call_id, at)
            session.add(EventRow(call_id=call_id, at=at, kind=event.kind, data=data))

    def set_outcome(
        self, call_id: str, *, outcome: str, queue: str | None = None, reason: str | None = None
    ) -> None:
        """Record how the call ended for the caller: transfer, callback, hangup or answered."""
        with self._write("set_outcome", call_id) as session:
            self._ensure_call(session, call_id, datetime.now(UTC))
            session.execute(
                update(CallRow)
                .where(CallRow.call_id == call_id)
                .values(outcome=outcome, queue=queue, reason=reason)
            )

    def call_ended(self, call_id: str, *, ended_at: datetime, status: str) -> None:
        """Record Twilio's final status; a call never seen before is created, starting then.

        Also settles the call's numbers: *resolved by the bot* (the bot ended it at a goodbye,
        nobody else was needed) and *abandoned* (a person was rung, nobody answered, and the
        caller left without a callback).
        """
        ended_at = _aware(ended_at, "ended_at")
        with self._write("call_ended", call_id) as session:
            stmt = self._insert(CallRow).values(
                call_id=call_id, started_at=ended_at, ended_at=ended_at, status=status
            )
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[CallRow.call_id],
                    set_={"ended_at": stmt.excluded.ended_at, "status": stmt.excluded.status},
                )
            )
            outcome = func.coalesce(CallRow.outcome, "")
            session.execute(
                update(CallRow)
                .where(CallRow.call_id == call_id)
                .values(
                    resolved_by_bot=and_(outcome == "hangup", CallRow.reason == "completed"),
                    abandoned=and_(
                        CallRow.transferred_at.is_not(None),
                        CallRow.answered_at.is_(None),
                        outcome != "callback",
                    ),
                )
            )

    def person_rung(self, call_id: str, *, at: datetime) -> None:
        """A person's phone started ringing for this call (the first time counts)."""
        at = _aware(at, "at")
        with self._write("person_rung", call_id) as session:
            self._ensure_call(session, call_id, at)
            session.execute(
                update(CallRow)
                .where(CallRow.call_id == call_id, CallRow.transferred_at.is_(None))
                .values(transferred_at=at)
            )

    def person_answered(self, call_id: str, *, agent: str, at: datetime) -> None:
        """``agent`` answered the call (time to a person); later answers change nothing."""
        at = _aware(at, "at")
        with self._write("person_answered", call_id) as session:
            self._ensure_call(session, call_id, at)
            session.execute(
                update(CallRow)
                .where(CallRow.call_id == call_id, CallRow.answered_at.is_(None))
                .values(
                    answered_at=at,
                    agent=agent,
                    transferred_at=func.coalesce(CallRow.transferred_at, at),
                )
            )

    # -- reads ----------------------------------------------------------------------------

    def get_call(self, call_id: str) -> CallRecord | None:
        """The call with its turns (by index) and events (by time, then insertion), or None."""
        with self._read("get_call", call_id) as session:
            row = session.get(CallRow, call_id)
            if row is None:
                return None
            turns = session.scalars(
                select(TurnRow).where(TurnRow.call_id == call_id).order_by(TurnRow.turn_index)
            ).all()
            events = session.scalars(
                select(EventRow)
                .where(EventRow.call_id == call_id)
                .order_by(EventRow.at, EventRow.id)
            ).all()
            return _call_record(row, turns, events)

    def recent_calls(self, limit: int = 50) -> list[CallRecord]:
        """The ``limit`` most recently started calls, newest first, without turns or events."""
        if limit < 0:
            raise ValueError(f"limit={limit} must not be negative")
        with self._read("recent_calls") as session:
            rows = session.scalars(
                select(CallRow)
                .order_by(CallRow.started_at.desc(), CallRow.call_id.desc())
                .limit(limit)
            ).all()
            return [_call_record(row, (), ()) for row in rows]

    def calls_from(
        self, caller: str, *, since: datetime, exclude: str | None = None, limit: int = 20
    ) -> list[CallRecord]:
        """Earlier calls from ``caller`` started at or after ``since``, newest first."""
        since = _aware(since, "since")
        with self._read("calls_from") as session:
            query = select(CallRow).where(CallRow.caller == caller, CallRow.started_at >= since)
            if exclude is not None:
                query = query.where(CallRow.call_id != exclude)
            rows = session.scalars(
                query.order_by(CallRow.started_at.desc(), CallRow.call_id.desc()).limit(limit)
            ).all()
            return [_call_record(row, (), ()) for row in rows]

    def answer_waits(self, queue: str, *, since: datetime, limit: int = 20) -> list[float]:
        """Seconds from ringing to answer of the latest answered calls of ``queue``."""
        since = _aware(since, "since")
        with self._read("answer_waits") as session:
            rows = session.execute(
                select(CallRow.transferred_at, CallRow.answered_at)
                .where(
                    CallRow.queue == queue,
                    CallRow.answered_at.is_not(None),
                    CallRow.transferred_at.is_not(None),
                    CallRow.answered_at >= since,
                )
                .order_by(CallRow.answered_at.desc())
                .limit(limit)
            ).all()
            return [(answered - rung).total_seconds() for rung, answered in rows]

    def ping(self) -> None:
        """Return if the database answers a query; raise :class:`StoreUnavailable` if not."""
        with self._read("ping") as session:
            session.execute(text("SELECT 1"))

    def close(self) -> None:
        """Close every pooled connection; later calls raise :class:`StoreUnavailable`."""
        self._closed = True
        self._engine.dispose()

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _guard(self, operation: str, call_id: str | None) -> Iterator[None]:
        """Turn any SQLAlchemy or driver error into :class:`StoreUnavailable`."""
        if self._closed:
            raise StoreUnavailable(operation, self.url, "the store is closed")
        try:
            yield
        except SQLAlchemyError as error:
            detail = self._describe(error)
            logger.warning(
                "store %s failed: %s",
                operation,
                detail,
                extra={"call_id": call_id, "url": self.url},
            )
            raise StoreUnavailable(operation, self.url, detail) from error

    @contextmanager
    def _write(self, operation: str, call_id: str | None) -> Iterator[Session]:
        """A session whose transaction commits when the block ends (rolls back on error)."""
        with self._guard(operation, call_id), Session(self._engine) as session, session.begin():
            yield session

    @contextmanager
    def _read(self, operation: str, call_id: str | None = None) -> Iterator[Session]:
        with self._guard(operation, call_id), Session(self._engine) as session:
            yield session

    def _insert(self, table: type[CallRow]) -> postgresql.Insert | sqlite.Insert:
        """An INSERT that can say ON CONFLICT, in this database's dialect."""
        if self._engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def _ensure_call(self, session: Session, call_id: str, at: datetime) -> None:
        """Create the call if missing, so a turn or event that beats the webhook is kept.

        This write comes first in its transaction so SQLite takes the write lock (waiting up to
        the busy timeout) before reading anything, which avoids its deadlock-avoidance errors.
        """
        session.execute(
            self._insert(CallRow)
            .values(call_id=call_id, started_at=at, status="in-progress")
            .on_conflict_do_nothing(index_elements=[CallRow.call_id])
        )

    def _describe(self, error: SQLAlchemyError) -> str:
        """The driver's first line (SQLAlchemy's own text adds SQL and parameters), no secrets."""
        origin = getattr(error, "orig", None)
        message = str(origin if origin is not None else error).strip()
        line = message.splitlines()[0] if message else error.__class__.__name__
        for secret in self._secrets:
            line = line.replace(secret, "***")
        return line

    def _create_engine(self, url: URL, connect_timeout: float, schema: str | None) -> Engine:
        backend = url.get_backend_name()
        if schema is not None and (backend != "postgresql" or not _SCHEMA_NAME.fullmatch(schema)):
            raise ValueError(
                f"schema={schema!r}: a schema needs PostgreSQL and a lower-case identifier"
            )
        with self._guard("connect", None):
            if backend == "sqlite":
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
                event.listen(
                    engine, "connect", functools.partial(_sqlite_on_connect, connect_timeout)
                )
                return engine
            if backend == "postgresql":
                connect_args: dict[str, Any] = {
                    # libpq's connect_timeout is whole seconds.
                    "connect_timeout": max(1, math.ceil(connect_timeout)),
                }
                if schema is not None:
                    connect_args["options"] = f"-csearch_path={schema}"
                return create_engine(
                    url, pool_pre_ping=True, pool_timeout=connect_timeout, connect_args=connect_args
                )
        raise ValueError(f"{self.url}: unsupported database {backend!r}; use SQLite or PostgreSQL")

    def _create_tables(self, schema: str | None) -> None:
        """Create missing tables and check the schema version, one process at a time."""
        with self._guard("create tables", None), self._engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATE_LOCK_KEY})
                if schema is not None:
                    conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            Base.metadata.create_all(conn)
            versions = conn.scalars(select(SchemaVersionRow.version)).all()
            if not versions:
                conn.execute(insert(SchemaVersionRow).values(version=SCHEMA_VERSION))
            elif list(versions) != [SCHEMA_VERSION]:
                raise StoreUnavailable(
                    "create tables",
                    self.url,
                    f"the database has schema version {max(versions)}, this code writes "
                    f"version {SCHEMA_VERSION}; use another database or migrate it by hand",
                )
            conn.commit()


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


def _call_record(row: CallRow, turns: Sequence[TurnRow], events: Sequence[EventRow]) -> CallRecord:
    return CallRecord(
        call_id=row.call_id,
        caller=row.caller,
        called=row.called,
        started_at=row.started_at,
        ended_at=row.ended_at,
        status=row.status,
        outcome=row.outcome,
        queue=row.queue,
        reason=row.reason,
        language=row.language,
        turns=tuple(_turn_record(turn) for turn in turns),
        events=tuple(EventRecord(at=e.at, kind=e.kind, data=dict(e.data)) for e in events),
        transferred_at=row.transferred_at,
        answered_at=row.answered_at,
        agent=row.agent,
        resolved_by_bot=row.resolved_by_bot,
        abandoned=row.abandoned,
    )


def _turn_record(row: TurnRow) -> TurnRecord:
    return TurnRecord(
        index=row.turn_index,
        at=row.at,
        step=row.step,
        kind=row.kind,
        text=row.text,
        asr_confidence=row.asr_confidence,
        intent=row.intent,
        confidence=row.confidence,
        decision=row.decision,
        actions=tuple(row.actions),
        latency_ms=dict(row.latency_ms),
    )
