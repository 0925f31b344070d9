"""The tables: calls with turns and events, callbacks with their transitions.

SQLAlchemy 2.0 typed declarative mapping, used only inside :mod:`ivr.store`; the rest of the app
sees :mod:`ivr.store.records`. ``Base.metadata`` is the layout the code writes: a new database
is created from it, and ``ivr db revision`` compares it with the migrations in
``ivr/store/migrations/versions/`` to write the next one (docs/storage.md). Change a table here,
then add its migration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
_Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite has no time zone type and drops the offset, so values are converted to UTC before
    they are written (the stored text then also sorts correctly) and tagged UTC when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """UTC, and naive for SQLite, whose text format cannot hold an offset."""
        if value is None:
            return None
        if value.tzinfo is None:
            # The Store checks first; this guards direct use of the tables.
            raise ValueError(f"naive datetime {value.isoformat()} has no time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Aware UTC whatever the database returned."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from {dialect.name}, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with predictable constraint names (they show up in errors)."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class CallRow(Base):
    """One phone call, keyed by Twilio's CallSid."""

    __tablename__ = "calls"
    # (caller, started_at): a returning caller's history, and the dashboard's repeat calls.
    __table_args__ = (Index(None, "caller", "started_at"),)

    call_id: Mapped[str] = mapped_column(String, primary_key=True)
    caller: Mapped[str | None] = mapped_column(String)
    called: Mapped[str | None] = mapped_column(String)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String)
    outcome: Mapped[str | None] = mapped_column(String)
    queue: Mapped[str | None] = mapped_column(String)
    reason: Mapped[str | None] = mapped_column(String)
    language: Mapped[str | None] = mapped_column(String)
    # The people side (for routing, wait estimates and the dashboard's numbers):
    transferred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a person was rung
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a person answered
    agent: Mapped[str | None] = mapped_column(String)  # who answered (agent id or address)
    resolved_by_bot: Mapped[bool | None] = mapped_column(Boolean)  # set when the call ends
    abandoned: Mapped[bool | None] = mapped_column(Boolean)  # hung up waiting for a person
    # What the console shows live: where the call is now, and what the caller came for.
    stage: Mapped[str | None] = mapped_column(String)  # bot, ringing, agent, booking, ended
    intent: Mapped[str | None] = mapped_column(String)  # the first intent the bot acted on


class TurnRow(Base):
    """One turn of a call; ``(call_id, turn_index)`` is unique and is the lookup index."""

    __tablename__ = "turns"
    # ``at``: the dashboard's turns of a period (ivr/metrics).
    __table_args__ = (UniqueConstraint("call_id", "turn_index"), Index(None, "at"))

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id", ondelete="CASCADE"))
    turn_index: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    step: Mapped[str | None] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
    text: Mapped[str | None] = mapped_column(String)
    asr_confidence: Mapped[float | None] = mapped_column(Float)
    intent: Mapped[str | None] = mapped_column(String)
    confidence: Mapped[float | None] = mapped_column(Float)
    decision: Mapped[str | None] = mapped_column(String)
    actions: Mapped[list[str]] = mapped_column(JSON)
    latency_ms: Mapped[dict[str, float]] = mapped_column(JSON)


class EventRow(Base):
    """One event of a call; ``id`` keeps insertion order among events at the same time."""

    __tablename__ = "events"
    __table_args__ = (Index(None, "call_id", "at", "id"),)

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class CallbackRow(Base):
    """A booked callback and where it is in its life cycle (see :mod:`ivr.store.callbacks`).

    ``(status, due_at)`` is the workers' claim index; ``number`` finds a caller's pending one.
    ``version`` grows by one with every write, so a reader can tell a row changed under it.
    """

    __tablename__ = "callbacks"
    # ``call_id``: the calls that became callbacks (the dashboard's service level).
    __table_args__ = (Index(None, "status", "due_at"), Index(None, "call_id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    call_id: Mapped[str | None] = mapped_column(String)  # the call that booked it
    queue: Mapped[str] = mapped_column(String)
    reason: Mapped[str] = mapped_column(String)
    number: Mapped[str] = mapped_column(String, index=True)  # whom to ring
    from_number: Mapped[str | None] = mapped_column(String)  # the number the caller rang
    agent_id: Mapped[str | None] = mapped_column(String)  # the preferred agent
    mode: Mapped[str] = mapped_column(String)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    promised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String)
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    sms: Mapped[bool] = mapped_column(Boolean)
    attempts: Mapped[int] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer)
    retry_after_minutes: Mapped[list[int]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String)
    lease_owner: Mapped[str | None] = mapped_column(String)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dial_sid: Mapped[str | None] = mapped_column(String)
    dial_to: Mapped[str | None] = mapped_column(String)  # whom the current attempt rings
    dial_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)
    claimed_by: Mapped[str | None] = mapped_column(String)  # the agent handling it by hand
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CallbackTransitionRow(Base):
    """One step of a callback's life: the status after it, what happened, and the details."""

    __tablename__ = "callback_transitions"
    __table_args__ = (Index(None, "callback_id", "id"),)

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    callback_id: Mapped[str] = mapped_column(ForeignKey("callbacks.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String)
    event: Mapped[str] = mapped_column(String)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class UserRow(Base):
    """A console account: an agent (``name`` is their agent id in the flows) or a supervisor."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # agent | supervisor
    password_hash: Mapped[str] = mapped_column(String)  # argon2id, with its own parameters
    disabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginFailureRow(Base):
    """A failed log-in, counted per account and per address to slow down guessing."""

    __tablename__ = "login_failures"
    __table_args__ = (Index(None, "name", "at"), Index(None, "address", "at"))

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class PresenceRow(Base):
    """An agent's presence as set in the console: available, away or offline."""

    __tablename__ = "agent_presence"

    agent: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgentBusyRow(Base):
    """An agent being rung or on a call: one row per agent, so a second claim on them fails.

    ``until`` bounds it: a process that died without releasing the agent frees them then.
    """

    __tablename__ = "agent_busy"

    agent: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # ringing | on_call
    call_id: Mapped[str | None] = mapped_column(String)  # a transfer of this call
    callback_id: Mapped[str | None] = mapped_column(String)  # or a placed callback
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)


class NoteRow(Base):
    """An agent's note about a caller (by number), shown on the caller's next calls."""

    __tablename__ = "caller_notes"
    __table_args__ = (Index(None, "number", "at"),)

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String)
    call_id: Mapped[str | None] = mapped_column(String)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
