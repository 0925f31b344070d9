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

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.store.database import Database, aware, jsonable
from ivr.store.errors import StoreUnavailable, TurnExists
from ivr.store.migrate import open_tables
from ivr.store.records import CallRecord, EventRecord, TurnRecord
from ivr.store.schema import CallRow, EventRow, TurnRow

logger = logging.getLogger(__name__)


class Store:
    """Call storage over SQLAlchemy; safe to share between threads.

    Args:
        url: A SQLAlchemy URL, usually from :func:`~ivr.store.database_url`: ``sqlite:///path``
            (a file) or ``postgresql://...`` (psycopg 3 is used whatever the scheme says).
        connect_timeout: Seconds to wait for a connection: PostgreSQL's connect timeout, SQLite's
            busy timeout, and the wait for a free pooled connection.
        schema: PostgreSQL only: keep the tables in this schema (created if missing) instead of
            ``public``, e.g. one schema per test run.

    Raises:
        ValueError: For an unsupported URL (another database, in-memory SQLite, which is private
            to each connection) or an invalid schema name.
        StoreUnavailable: If the database cannot be opened or its tables created.
        SchemaOutOfDate: If its tables are behind the code: ``ivr db upgrade`` migrates them.
        UnknownSchema: If its tables are a layout this code does not know (a newer one).
    """

    def __init__(
        self, url: str, *, connect_timeout: float = 3.0, schema: str | None = None
    ) -> None:
        #: The database, shared with :class:`~ivr.store.CallbackStore`.
        self.database = Database(url, connect_timeout=connect_timeout, schema=schema)
        try:
            open_tables(self.database)
        except BaseException:
            self.database.close()
            raise
        logger.info("store ready", extra={"url": self.url})

    @property
    def url(self) -> str:
        """The database URL for display, password masked."""
        return self.database.url

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
        started_at = aware(started_at, "started_at")
        with self.database.write("call_started", call_id) as session:
            stmt = self.database.insert(CallRow).values(
                call_id=call_id,
                caller=caller,
                called=called,
                started_at=started_at,
                status="in-progress",
                language=language,
                stage="bot",
            )
            new = stmt.excluded
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[CallRow.call_id],
                    set_={
                        "caller": func.coalesce(CallRow.caller, new.caller),
                        "called": func.coalesce(CallRow.called, new.called),
                        "language": func.coalesce(CallRow.language, new.language),
                        "stage": func.coalesce(CallRow.stage, new.stage),
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
        row = _turn_row(call_id, turn)
        try:
            with self.database.write("add_turn", call_id) as session:
                self._ensure_call(session, call_id, row.at)
                session.add(row)
                session.flush()
                if turn.intent and acted_on(turn.decision):
                    session.execute(
                        update(CallRow)
                        .where(CallRow.call_id == call_id, CallRow.intent.is_(None))
                        .values(intent=turn.intent)
                    )
        except StoreUnavailable as error:
            if isinstance(error.__cause__, IntegrityError):
                what = f"turn {turn.index} of call {call_id}"
                raise TurnExists("add_turn", self.url, f"{what} is already stored") from None
            raise

    def add_event(self, call_id: str, event: EventRecord) -> None:
        """Store one event of a call (``event.data`` must be JSON-serialisable)."""
        at = aware(event.at, "event.at")
        data = jsonable(dict(event.data), f"data of event {event.kind!r} of call {call_id}")
        with self.database.write("add_event", call_id) as session:
            self._ensure_call(session, call_id, at)
            session.add(EventRow(call_id=call_id, at=at, kind=event.kind, data=data))

    def set_outcome(
        self, call_id: str, *, outcome: str, queue: str | None = None, reason: str | None = None
    ) -> None:
        """Record how the call ended for the caller: transfer, callback, hangup or answered."""
        with self.database.write("set_outcome", call_id) as session:
            self._ensure_call(session, call_id, datetime.now(UTC))
            session.execute(
                update(CallRow)
                .where(CallRow.call_id == call_id)
                .values(outcome=outcome, queue=queue, reason=reason)
            )

    def set_stage(self, call_id: str, stage: str) -> None:
        """Where the call is now, for the live view (``booking``: the bot books a callback)."""
        with self.database.write("set_stage", call_id) as session:
            self._ensure_call(session, call_id, datetime.now(UTC))
            session.execute(
                update(CallRow)
                .where(CallRow.call_id == call_id, CallRow.ended_at.is_(None))
                .values(stage=stage)
            )

    def set_language(self, call_id: str, language: str) -> None:
        """The language the call is in now (a returning caller starts in the last one)."""
        with self.database.write("set_language", call_id) as session:
            self._ensure_call(session, call_id, datetime.now(UTC))
            session.execute(
                update(CallRow).where(CallRow.call_id == call_id).values(language=language)
            )

    def call_ended(self, call_id: str, *, ended_at: datetime, status: str) -> None:
        """Record Twilio's final status; a call never seen before is created, starting then.

        Also settles the call's numbers: *resolved by the bot* (the bot ended it at a goodbye,
        nobody else was needed) and *abandoned* (a person was rung, nobody answered, and the
        caller left without a callback).
        """
        ended_at = aware(ended_at, "ended_at")
        with self.database.write("call_ended", call_id) as session:
            stmt = self.database.insert(CallRow).values(
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
                    stage="ended",
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
        at = aware(at, "at")
        with self.database.write("person_rung", call_id) as session:
            self._ensure_call(session, call_id, at)
            session.execute(
                update(CallRow)
                .where(CallRow.call_id == call_id, CallRow.transferred_at.is_(None))
                .values(transferred_at=at)
            )
            session.execute(
                update(CallRow)
                .where(CallRow.call_id == call_id, CallRow.answered_at.is_(None))
                .values(stage="ringing")
            )

    def person_answered(self, call_id: str, *, agent: str, at: datetime) -> None:
        """``agent`` answered the call (time to a person); later answers change nothing."""
        at = aware(at, "at")
        with self.database.write("person_answered", call_id) as session:
            self._ensure_call(session, call_id, at)
            session.execute(
                update(CallRow)
                .where(CallRow.call_id == call_id, CallRow.answered_at.is_(None))
                .values(
                    stage="agent",
                    answered_at=at,
                    agent=agent,
                    transferred_at=func.coalesce(CallRow.transferred_at, at),
                )
            )

    # -- reads ----------------------------------------------------------------------------

    def get_call(self, call_id: str) -> CallRecord | None:
        """The call with its turns (by index) and events (by time, then insertion), or None."""
        with self.database.read("get_call", call_id) as session:
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
            return call_from_row(row, turns, events)

    def recent_calls(self, limit: int = 50) -> list[CallRecord]:
        """The ``limit`` most recently started calls, newest first, without turns or events."""
        if limit < 0:
            raise ValueError(f"limit={limit} must not be negative")
        with self.database.read("recent_calls") as session:
            rows = session.scalars(
                select(CallRow)
                .order_by(CallRow.started_at.desc(), CallRow.call_id.desc())
                .limit(limit)
            ).all()
            return [call_from_row(row, (), ()) for row in rows]

    def calls_from(
        self, caller: str, *, since: datetime, exclude: str | None = None, limit: int = 20
    ) -> list[CallRecord]:
        """Earlier calls from ``caller`` started at or after ``since``, newest first."""
        since = aware(since, "since")
        with self.database.read("calls_from") as session:
            query = select(CallRow).where(CallRow.caller == caller, CallRow.started_at >= since)
            if exclude is not None:
                query = query.where(CallRow.call_id != exclude)
            rows = session.scalars(
                query.order_by(CallRow.started_at.desc(), CallRow.call_id.desc()).limit(limit)
            ).all()
            return [call_from_row(row, (), ()) for row in rows]

    def answer_waits(self, queue: str, *, since: datetime, limit: int = 20) -> list[float]:
        """Seconds from ringing to answer of the latest answered calls of ``queue``."""
        since = aware(since, "since")
        with self.database.read("answer_waits") as session:
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
            return [
                (answered - rung).total_seconds()
                for rung, answered in rows
                if rung is not None and answered is not None  # the query's own condition
            ]

    def ping(self) -> None:
        """Return if the database answers a query; raise :class:`StoreUnavailable` if not."""
        self.database.ping()

    def close(self) -> None:
        """Close every pooled connection; later calls raise :class:`StoreUnavailable`."""
        self.database.close()

    # -- plumbing -------------------------------------------------------------------------

    def _ensure_call(self, session: Session, call_id: str, at: datetime) -> None:
        """Create the call if missing, so a turn or event that beats the webhook is kept.

        This write comes first in its transaction so SQLite takes the write lock (waiting up to
        the busy timeout) before reading anything, which avoids its deadlock-avoidance errors.
        """
        session.execute(
            self.database.insert(CallRow)
            .values(call_id=call_id, started_at=at, status="in-progress")
            .on_conflict_do_nothing(index_elements=[CallRow.call_id])
        )


def _turn_row(call_id: str, turn: TurnRecord) -> TurnRow:
    """The row of ``turn``; raises before any writing if its time or data cannot be stored."""
    what = f"turn {turn.index} of call {call_id}"
    return TurnRow(
        call_id=call_id,
        turn_index=turn.index,
        at=aware(turn.at, "turn.at"),
        step=turn.step,
        kind=turn.kind,
        text=turn.text,
        asr_confidence=turn.asr_confidence,
        intent=turn.intent,
        confidence=turn.confidence,
        decision=turn.decision,
        actions=jsonable(list(turn.actions), f"actions of {what}"),
        latency_ms=jsonable(dict(turn.latency_ms), f"latency_ms of {what}"),
    )


def call_from_row(row: CallRow, turns: Sequence[TurnRow], events: Sequence[EventRow]) -> CallRecord:
    """The plain record of a call's row, with its turns and events."""
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
        turns=tuple(turn_from_row(turn) for turn in turns),
        events=tuple(EventRecord(at=e.at, kind=e.kind, data=dict(e.data)) for e in events),
        transferred_at=row.transferred_at,
        answered_at=row.answered_at,
        agent=row.agent,
        resolved_by_bot=row.resolved_by_bot,
        abandoned=row.abandoned,
        stage=row.stage,
        intent=row.intent,
    )


def turn_from_row(row: TurnRow) -> TurnRecord:
    """The plain record of a turn's row."""
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


#: Decisions on which the bot acted on the caller's intent (not a misunderstanding or a retry).
ACTED_ON = ("route:", "global:", "slot:", "confirm:", "booking:")


def acted_on(decision: str | None) -> bool:
    """Whether a turn's decision acted on its intent: the call's intent is the first such."""
    return decision is not None and decision.startswith(ACTED_ON)
