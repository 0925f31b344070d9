"""The rows under :class:`~ivr.store.CallbackStore`: locking, changing and logging them.

:class:`CallbackTable` is the plumbing the two halves of the callback store share (booking and
reads in :mod:`ivr.store.callbacks`, the worker's side in :mod:`ivr.store.callback_dispatch`):
one write transaction that locks what it reads, and every status change stored as a
transition. Also here: the conversions between rows and records, and :class:`AttemptRules`,
what the store needs from the callback policy (which lives outside the store).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ivr.store.database import Database, jsonable
from ivr.store.errors import CallbackNotFound, CallbackStateError
from ivr.store.records import (
    FINAL,
    WAITING,
    CallbackRecord,
    CallbackStatus,
    CallbackTransition,
)
from ivr.store.schema import CallbackRow, CallbackTransitionRow

logger = logging.getLogger("ivr.store.callbacks")  # the name callback logs have always had


class AttemptRules(Protocol):
    """The callback policy the store applies to outcomes (``ivr.callbacks.policy`` has one)."""

    def after_failed_attempt(
        self, attempts: int, max_attempts: int, retry_after_minutes: Sequence[int], now: datetime
    ) -> datetime | None:
        """When to try again after attempt number ``attempts`` failed; ``None``: give up."""
        ...

    def kept_on_time(self, promised_at: datetime, connected_at: datetime) -> bool:
        """Whether a callback that connected at ``connected_at`` kept its promise."""
        ...


class CallbackTable:
    """Callback rows in ``database``, changed under a lock, each change logged as a transition.

    ``rules`` decides when a failed attempt is retried and whether a connection was on time.
    """

    def __init__(self, database: Database, rules: AttemptRules) -> None:
        self._db = database
        self._rules = rules

    @contextmanager
    def _transaction(self, operation: str, callback_id: str | None) -> Iterator[Session]:
        """One write transaction that reads then writes (SQLite's takes the lock first)."""
        with self._db.write(operation, callback_id, immediate=True) as session:
            yield session

    def _select(self, callback_id: str) -> Select[CallbackRow]:
        query = select(CallbackRow).where(CallbackRow.id == callback_id)
        return query.with_for_update() if self._db.is_postgres else query

    def _locked(self, session: Session, callback_id: str) -> CallbackRow:
        row = session.scalars(self._select(callback_id)).one_or_none()
        if row is None:
            raise CallbackNotFound(f"no callback {callback_id}")
        return row

    @staticmethod
    def _require(row: CallbackRow, allowed: frozenset[CallbackStatus], wanted: str) -> None:
        if row.status not in values(allowed):
            raise CallbackStateError(row.id, CallbackStatus(row.status), wanted)

    def _change(
        self,
        session: Session,
        row: CallbackRow,
        now: datetime,
        status: CallbackStatus,
        event: str,
        **detail: Any,
    ) -> None:
        row.status = status.value
        if status in FINAL or status in WAITING:
            release_lease(row)
        touch(row, now)
        self._log(session, row, now, event, **detail)

    @staticmethod
    def _log(session: Session, row: CallbackRow, now: datetime, event: str, **detail: Any) -> None:
        session.add(
            CallbackTransitionRow(
                callback_id=row.id,
                at=now,
                status=row.status,
                event=event,
                detail=jsonable(detail, f"detail of {event}"),
            )
        )
        logger.info(
            "callback %s",
            event,
            extra={
                "callback_id": row.id,
                "call_id": row.call_id,
                "status": row.status,
                "detail": detail,
            },
        )


def touch(row: CallbackRow, now: datetime) -> None:
    """Mark ``row`` changed at ``now`` (its ``version`` grows by one)."""
    row.updated_at = now
    row.version = row.version + 1


def release_lease(row: CallbackRow) -> None:
    """No worker holds ``row`` any more."""
    row.lease_owner = row.lease_until = None


def values(statuses: Iterable[CallbackStatus]) -> list[str]:
    """The stored strings of ``statuses``, for ``IN (...)``."""
    return sorted(status.value for status in statuses)


def to_record(row: CallbackRow, steps: Sequence[CallbackTransitionRow] = ()) -> CallbackRecord:
    """The plain record of ``row``, with ``steps`` as its transitions."""
    return CallbackRecord(
        id=row.id,
        call_id=row.call_id,
        queue=row.queue,
        reason=row.reason,
        number=row.number,
        from_number=row.from_number,
        agent_id=row.agent_id,
        mode=row.mode,
        due_at=row.due_at,
        promised_at=row.promised_at,
        language=row.language,
        context=dict(row.context),
        sms=row.sms,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        retry_after_minutes=tuple(row.retry_after_minutes),
        status=CallbackStatus(row.status),
        lease_owner=row.lease_owner,
        lease_until=row.lease_until,
        dial_sid=row.dial_sid,
        dial_to=row.dial_to,
        dial_started_at=row.dial_started_at,
        connected_at=row.connected_at,
        on_time=row.on_time,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        transitions=tuple(
            CallbackTransition(s.at, CallbackStatus(s.status), s.event, dict(s.detail))
            for s in steps
        ),
    )
