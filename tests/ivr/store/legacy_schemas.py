"""Databases as the code before migrations left them: frozen copies of its two layouts.

``schema_version`` 1 is ``git show 90e24c4:ivr/store/schema.py``; 3 is ``git show
b2dfdcd:ivr/store/schema.py`` (2 never shipped). The tables are copied here column for column,
as SQLAlchemy Core, so later changes to ``ivr/store/schema.py`` cannot change them, and
:func:`build` fills every table with a few rows that the tests expect back after the upgrade.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    insert,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
ID = BigInteger().with_variant(Integer(), "sqlite")
TIME = DateTime(timezone=True)  # what the old UTCDateTime created; values are written in UTC
T0 = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def layout(version: int) -> MetaData:
    """The tables that the code of ``schema_version`` ``version`` created."""
    metadata = MetaData(naming_convention=NAMING)
    people = version >= 3
    Table(
        "calls",
        metadata,
        Column("call_id", String, primary_key=True),
        Column("caller", String, index=people),
        Column("called", String),
        Column("started_at", TIME, nullable=False, index=True),
        Column("ended_at", TIME),
        Column("status", String, nullable=False),
        Column("outcome", String),
        Column("queue", String),
        Column("reason", String),
        Column("language", String),
        *(_people_columns() if people else ()),
    )
    Table(
        "turns",
        metadata,
        Column("id", ID, primary_key=True, autoincrement=True),
        Column("call_id", ForeignKey("calls.call_id", ondelete="CASCADE"), nullable=False),
        Column("turn_index", Integer, nullable=False),
        Column("at", TIME, nullable=False),
        Column("step", String),
        Column("kind", String, nullable=False),
        Column("text", String),
        Column("asr_confidence", Float),
        Column("intent", String),
        Column("confidence", Float),
        Column("decision", String),
        Column("actions", JSON, nullable=False),
        Column("latency_ms", JSON, nullable=False),
        UniqueConstraint("call_id", "turn_index"),
    )
    Table(
        "events",
        metadata,
        Column("id", ID, primary_key=True, autoincrement=True),
        Column("call_id", ForeignKey("calls.call_id", ondelete="CASCADE"), nullable=False),
        Column("at", TIME, nullable=False),
        Column("kind", String, nullable=False),
        Column("data", JSON, nullable=False),
        Index(None, "call_id", "at", "id"),
    )
    Table(
        "schema_version",
        metadata,
        Column("version", Integer, primary_key=True, autoincrement=False),
    )
    if people:
        _callback_tables(metadata)
    return metadata


def _people_columns() -> list[Column[Any]]:
    return [
        Column("transferred_at", TIME),
        Column("answered_at", TIME),
        Column("agent", String),
        Column("resolved_by_bot", Boolean),
        Column("abandoned", Boolean),
    ]


def _callback_tables(metadata: MetaData) -> None:
    Table(
        "callbacks",
        metadata,
        Column("id", String(32), primary_key=True),
        Column("call_id", String),
        Column("queue", String, nullable=False),
        Column("reason", String, nullable=False),
        Column("number", String, nullable=False, index=True),
        Column("from_number", String),
        Column("agent_id", String),
        Column("mode", String, nullable=False),
        Column("due_at", TIME, nullable=False),
        Column("promised_at", TIME, nullable=False),
        Column("language", String),
        Column("context", JSON, nullable=False),
        Column("sms", Boolean, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("max_attempts", Integer, nullable=False),
        Column("retry_after_minutes", JSON, nullable=False),
        Column("status", String, nullable=False),
        Column("lease_owner", String),
        Column("lease_until", TIME),
        Column("dial_sid", String),
        Column("dial_to", String),
        Column("dial_started_at", TIME),
        Column("connected_at", TIME),
        Column("on_time", Boolean),
        Column("created_at", TIME, nullable=False),
        Column("updated_at", TIME, nullable=False),
        Column("version", Integer, nullable=False),
        Index(None, "status", "due_at"),
    )
    Table(
        "callback_transitions",
        metadata,
        Column("id", ID, primary_key=True, autoincrement=True),
        Column("callback_id", ForeignKey("callbacks.id", ondelete="CASCADE"), nullable=False),
        Column("at", TIME, nullable=False),
        Column("status", String, nullable=False),
        Column("event", String, nullable=False),
        Column("detail", JSON, nullable=False),
        Index(None, "callback_id", "id"),
    )


def build(url: str, schema: str | None, version: int) -> None:
    """Create the ``version`` layout at ``url`` (in ``schema``) and fill every table."""
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, connect_args=connect_args)
    try:
        with engine.begin() as conn:
            if schema:
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            metadata = layout(version)
            metadata.create_all(conn)
            _fill(conn, metadata, version)
    finally:
        engine.dispose()


def _fill(conn: Connection, metadata: MetaData, version: int) -> None:
    tables = metadata.tables
    conn.execute(insert(tables["schema_version"]).values(version=version))
    conn.execute(insert(tables["calls"]), [_call(version, i) for i in range(2)])
    conn.execute(insert(tables["turns"]), TURNS)
    conn.execute(insert(tables["events"]), EVENTS)
    if version >= 3:
        conn.execute(insert(tables["callbacks"]), [CALLBACK])
        conn.execute(insert(tables["callback_transitions"]), TRANSITIONS)


def _call(version: int, i: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "call_id": f"CA{i}",
        "caller": f"+44770090000{i}",
        "called": "+442079460000",
        "started_at": at(10 * i),
        "ended_at": at(10 * i + 3),
        "status": "completed",
        "outcome": ["transfer", "hangup"][i],
        "queue": ["billing", None][i],
        "reason": ["asked_for_person", "completed"][i],
        "language": "en",
    }
    if version >= 3:
        row |= PEOPLE[i]
    return row


#: The v3 people columns of CA0 and CA1 (a v1 database upgraded has them all None).
PEOPLE: list[dict[str, Any]] = [
    {
        "transferred_at": at(1),
        "answered_at": at(1.5),
        "agent": "alice",
        "resolved_by_bot": False,
        "abandoned": False,
    },
    {
        "transferred_at": None,
        "answered_at": None,
        "agent": None,
        "resolved_by_bot": True,
        "abandoned": False,
    },
]
TURNS: list[dict[str, Any]] = [
    {
        "call_id": "CA0",
        "turn_index": 0,
        "at": at(0),
        "step": "greet",
        "kind": "start",
        "text": None,
        "asr_confidence": None,
        "intent": None,
        "confidence": None,
        "decision": None,
        "actions": ["say greeting", "listen"],
        "latency_ms": {},
    },
    {
        "call_id": "CA0",
        "turn_index": 1,
        "at": at(0.5),
        "step": "menu",
        "kind": "speech",
        "text": "my bill is wrong",
        "asr_confidence": 0.91,
        "intent": "billing_question",
        "confidence": 0.88,
        "decision": "transfer:billing",
        "actions": ["transfer billing"],
        "latency_ms": {"asr": 12.5, "nlu": 20},
    },
]
EVENTS: list[dict[str, Any]] = [
    {"call_id": "CA0", "at": at(0.25), "kind": "barge_in", "data": {"prompt": "greeting"}},
    {"call_id": "CA1", "at": at(10), "kind": "status", "data": {"status": "ringing"}},
]
CALLBACK: dict[str, Any] = {
    "id": "cb0123456789abcdef0123456789abcd",
    "call_id": "CA0",
    "queue": "billing",
    "reason": "no_agent",
    "number": "+447700900000",
    "from_number": "+442079460000",
    "agent_id": "alice",
    "mode": "agent_first",
    "due_at": at(60),
    "promised_at": at(60),
    "language": "en",
    "context": {"summary": "bill is wrong"},
    "sms": True,
    "attempts": 1,
    "max_attempts": 3,
    "retry_after_minutes": [5, 15, 60],
    "status": "retry",
    "lease_owner": None,
    "lease_until": None,
    "dial_sid": "CAdial0",
    "dial_to": "+447700900000",
    "dial_started_at": at(55),
    "connected_at": None,
    "on_time": None,
    "created_at": at(2),
    "updated_at": at(56),
    "version": 5,
}
TRANSITIONS: list[dict[str, Any]] = [
    {
        "callback_id": CALLBACK["id"],
        "at": at(2),
        "status": "scheduled",
        "event": "scheduled",
        "detail": {"queue": "billing"},
    },
    {
        "callback_id": CALLBACK["id"],
        "at": at(56),
        "status": "retry",
        "event": "retry",
        "detail": {},
    },
]
