"""Booked callbacks and their life cycle, in the same database as the calls.

Usage::

    callbacks = CallbackStore(store)
    booked = callbacks.schedule(queue="billing", number="+447700900123", due_at=at, now=now)
    for claim in callbacks.claim_due("worker-1", now, lease_seconds=120, limit=10):
        callbacks.dial_requested(claim.callback.id, "worker-1", 1, now)  # before the request
        callbacks.dial_placed(claim.callback.id, sid, now)                # after it
    callbacks.record_outcome(booked.id, CallbackStatus.BUSY, now)  # from the status webhook

Life cycle (docs/callbacks.md)::

    scheduled -> dialing -> connected -> done
                        +-> no_answer | busy | failed | machine -> retry -> dialing ...
                                                               +-> gave_up
    scheduled | retry -> cancelled

Every change is one short transaction that also appends a row to ``callback_transitions``.
Rows are read and changed under a lock: ``SELECT ... FOR UPDATE`` (``SKIP LOCKED`` when
claiming) in PostgreSQL, a ``BEGIN IMMEDIATE`` transaction (one writer at a time) in SQLite.
"""

from __future__ import annotations

import builtins
import enum
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.callbacks.policy import after_failed_attempt, kept_on_time
from ivr.store.schema import CallbackRow, CallbackTransitionRow
from ivr.store.store import Store, StoreUnavailable, _aware, _json

logger = logging.getLogger(__name__)

#: How long a placed call may go without a final status before a worker treats it as lost.
OUTCOME_WAIT = timedelta(hours=1)


class CallbackStatus(enum.StrEnum):
    """Where a callback is in its life cycle."""

    SCHEDULED = "scheduled"  # booked, waiting for its time
    DIALING = "dialing"  # a worker is placing it, or it rings
    CONNECTED = "connected"  # the first leg answered
    NO_ANSWER = "no_answer"  # an attempt's outcome ...
    BUSY = "busy"
    FAILED = "failed"
    MACHINE = "machine"  # customer first: an answering machine took it (a message was left)
    RETRY = "retry"  # waiting for the next attempt
    DONE = "done"  # the call completed after connecting
    GAVE_UP = "gave_up"  # every attempt failed
    CANCELLED = "cancelled"


#: Waiting to be dialed: a worker may claim these once due; a caller may cancel or move them.
WAITING = frozenset({CallbackStatus.SCHEDULED, CallbackStatus.RETRY})
#: How a failed attempt ended.
FAILED_ATTEMPT = frozenset(
    {CallbackStatus.NO_ANSWER, CallbackStatus.BUSY, CallbackStatus.FAILED, CallbackStatus.MACHINE}
)
#: Nothing more will happen.
FINAL = frozenset({CallbackStatus.DONE, CallbackStatus.GAVE_UP, CallbackStatus.CANCELLED})


@dataclass(frozen=True)
class CallbackTransition:
    """One stored step: the status after it, what happened (``event``) and its details."""

    at: datetime
    status: CallbackStatus
    event: str  # scheduled, dial_requested, dial_placed, adopted, recovered, outcome, retry, ...
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class CallbackRecord:
    """A callback as stored; ``transitions`` oldest first (only from :meth:`CallbackStore.get`)."""

    id: str
    call_id: str | None
    queue: str
    reason: str
    number: str
    from_number: str | None
    agent_id: str | None
    mode: str
    due_at: datetime
    promised_at: datetime
    language: str | None
    context: Mapping[str, Any]
    sms: bool
    attempts: int
    max_attempts: int
    retry_after_minutes: tuple[int, ...]
    status: CallbackStatus
    lease_owner: str | None
    lease_until: datetime | None
    dial_sid: str | None
    dial_to: str | None
    dial_started_at: datetime | None
    connected_at: datetime | None
    on_time: bool | None
    created_at: datetime
    updated_at: datetime
    version: int
    transitions: tuple[CallbackTransition, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Claim:
    """A callback a worker now holds the lease of.

    ``recovering``: it was ``dialing`` under a lease that expired, so the worker before may have
    sent the REST request; check with the dialer before dialing again.
    """

    callback: CallbackRecord
    recovering: bool


class CallbackError(Exception):
    """A callback operation that the callback's state does not allow."""


class CallbackNotFound(CallbackError):
    """No callback has this id."""


class CallbackExists(CallbackError):
    """A callback with this id is already stored (a booking replayed twice)."""


class CallbackStateError(CallbackError):
    """The callback is past the point where this can be done (e.g. cancelling a placed one)."""

    def __init__(self, callback_id: str, status: CallbackStatus, wanted: str) -> None:
        super().__init__(f"callback {callback_id} is {status}; cannot {wanted}")
        self.callback_id = callback_id
        self.status = status


class LeaseLost(CallbackError):
    """The worker no longer holds the callback: its lease expired or it was cancelled or moved."""


class CallbackStore:
    """Callbacks in the database of ``store`` (its engine, its error handling); thread-safe."""

    def __init__(self, store: Store) -> None:
        self._store = store
        # The same package: the callback tables live beside the calls, on one engine.
        self._postgres = store._engine.dialect.name == "postgresql"

    # -- booking --------------------------------------------------------------------------

    def schedule(
        self,
        *,
        queue: str,
        number: str,
        due_at: datetime,
        now: datetime,
        reason: str = "callback",
        call_id: str | None = None,
        promised_at: datetime | None = None,
        from_number: str | None = None,
        agent_id: str | None = None,
        mode: str = "agent_first",
        language: str | None = None,
        context: Mapping[str, Any] | None = None,
        sms: bool = False,
        max_attempts: int = 3,
        retry_after_minutes: Sequence[int] = (5, 15, 60),
        replaces: str | None = None,
        callback_id: str | None = None,
    ) -> CallbackRecord:
        """Book a callback due at ``due_at`` (also the promise unless ``promised_at``).

        ``replaces`` cancels that waiting callback in the same transaction (a caller moving
        their booking); one already being dialed raises :class:`CallbackStateError`.
        A ``callback_id`` already stored raises :class:`CallbackExists`.
        """
        due_at, now = _aware(due_at, "due_at"), _aware(now, "now")
        promised_at = _aware(promised_at, "promised_at") if promised_at else due_at
        if max_attempts < 1:
            raise ValueError(f"max_attempts={max_attempts} must be at least 1")
        delays = [int(minutes) for minutes in retry_after_minutes]
        if not delays or min(delays) <= 0:
            raise ValueError(f"retry_after_minutes={delays} must be positive minutes")
        row = CallbackRow(
            id=callback_id or uuid.uuid4().hex,
            call_id=call_id,
            queue=queue,
            reason=reason,
            number=number,
            from_number=from_number,
            agent_id=agent_id,
            mode=str(mode),
            due_at=due_at,
            promised_at=promised_at,
            language=language,
            context=_json(dict(context or {}), "callback context"),
            sms=sms,
            attempts=0,
            max_attempts=max_attempts,
            retry_after_minutes=delays,
            status=CallbackStatus.SCHEDULED.value,
            created_at=now,
            updated_at=now,
            version=1,
        )
        try:
            with self._transaction("schedule", row.id) as session:
                if replaces is not None:
                    old = self._locked(session, replaces)
                    self._require(old, WAITING, "replace it")
                    self._change(session, old, now, CallbackStatus.CANCELLED, "replaced", by=row.id)
                session.add(row)
                session.flush()
                self._log(session, row, now, "scheduled", call_id=call_id, queue=queue)
                return _record(row)
        except StoreUnavailable as error:
            if isinstance(error.__cause__, IntegrityError) and callback_id is not None:
                raise CallbackExists(f"callback {callback_id} is already stored") from None
            raise

    def cancel(self, callback_id: str, now: datetime, by: str = "caller") -> CallbackRecord:
        """Cancel a waiting callback; raises :class:`CallbackStateError` once it is dialed."""
        now = _aware(now, "now")
        with self._transaction("cancel", callback_id) as session:
            row = self._locked(session, callback_id)
            self._require(row, WAITING, "cancel it")
            self._change(session, row, now, CallbackStatus.CANCELLED, "cancelled", by=by)
            return _record(row)

    def move(
        self, callback_id: str, due_at: datetime, now: datetime, by: str = "caller"
    ) -> CallbackRecord:
        """Promise a waiting callback for another time (it becomes ``scheduled`` again)."""
        due_at, now = _aware(due_at, "due_at"), _aware(now, "now")
        with self._transaction("move", callback_id) as session:
            row = self._locked(session, callback_id)
            self._require(row, WAITING, "move it")
            before = row.due_at
            row.due_at = row.promised_at = due_at
            self._change(
                session, row, now, CallbackStatus.SCHEDULED, "moved", by=by, was=before.isoformat()
            )
            return _record(row)

    # -- reads ----------------------------------------------------------------------------

    def get(self, callback_id: str) -> CallbackRecord | None:
        """The callback with its transitions (oldest first), or ``None``."""
        with self._store._read("get callback") as session:
            row = session.get(CallbackRow, callback_id)
            if row is None:
                return None
            steps = session.scalars(
                select(CallbackTransitionRow)
                .where(CallbackTransitionRow.callback_id == callback_id)
                .order_by(CallbackTransitionRow.id)
            ).all()
            return _record(row, steps)

    def pending_for_number(self, number: str) -> builtins.list[CallbackRecord]:
        """Callbacks to ``number`` still waiting to be dialed, soonest first."""
        with self._store._read("pending_for_number") as session:
            rows = session.scalars(
                select(CallbackRow)
                .where(CallbackRow.number == number, CallbackRow.status.in_(_values(WAITING)))
                .order_by(CallbackRow.due_at, CallbackRow.id)
            ).all()
            return [_record(row) for row in rows]

    def list(
        self, status: CallbackStatus | None = None, limit: int = 50
    ) -> builtins.list[CallbackRecord]:
        """Up to ``limit`` callbacks (of one status, or all), by due time."""
        if limit < 0:
            raise ValueError(f"limit={limit} must not be negative")
        query = select(CallbackRow)
        if status is not None:
            query = query.where(CallbackRow.status == CallbackStatus(status).value)
        with self._store._read("list callbacks") as session:
            rows = session.scalars(
                query.order_by(CallbackRow.due_at, CallbackRow.id).limit(limit)
            ).all()
            return [_record(row) for row in rows]

    def sids_in_use(self, sids: Sequence[str]) -> set[str]:
        """Which of these call sids are already stored against some callback."""
        if not sids:
            return set()
        with self._store._read("sids_in_use") as session:
            found = session.scalars(
                select(CallbackRow.dial_sid).where(CallbackRow.dial_sid.in_(list(sids)))
            ).all()
            return {sid for sid in found if sid is not None}

    # -- the worker's side ----------------------------------------------------------------

    def claim_due(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int = 10
    ) -> builtins.list[Claim]:
        """Lease up to ``limit`` due callbacks to ``worker_id`` for ``lease_seconds``.

        Due: ``scheduled``/``retry`` with ``due_at <= now`` and no live lease, and ``dialing``
        ones whose lease expired (their worker died or hung): those come back ``recovering``.
        Two workers never get the same callback while a lease lasts.
        """
        now = _aware(now, "now")
        if limit <= 0:
            return []
        until = now + timedelta(seconds=lease_seconds)
        free = or_(CallbackRow.lease_until.is_(None), CallbackRow.lease_until <= now)
        due = or_(
            (CallbackRow.status.in_(_values(WAITING))) & (CallbackRow.due_at <= now) & free,
            (CallbackRow.status == CallbackStatus.DIALING.value) & (CallbackRow.lease_until <= now),
        )
        query = select(CallbackRow).where(due).order_by(CallbackRow.due_at).limit(limit)
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        claims: builtins.list[Claim] = []
        with self._transaction("claim_due", None) as session:
            for row in session.scalars(query).all():
                recovering = row.status == CallbackStatus.DIALING.value
                previous = row.lease_owner
                row.lease_owner, row.lease_until = worker_id, until
                _touch(row, now)
                if recovering:
                    self._log(session, row, now, "recovered", worker=worker_id, was=previous)
                claims.append(Claim(_record(row), recovering))
        return claims

    def dial_requested(
        self,
        callback_id: str,
        worker_id: str,
        attempt: int,
        now: datetime,
        to: str | None = None,
        lease_seconds: float | None = None,
    ) -> CallbackRecord:
        """Record that attempt ``attempt`` to ``to`` is about to be sent, BEFORE the REST request.

        A worker recovering the callback later asks Twilio for calls to ``to`` since ``now``.
        ``lease_seconds`` renews the lease from ``now``: the request must end within it.

        Raises:
            LeaseLost: If ``worker_id`` no longer holds the callback (lease expired and taken,
                cancelled, moved): the worker must not dial.
        """
        now = _aware(now, "now")
        with self._transaction("dial_requested", callback_id) as session:
            row = self._locked(session, callback_id)
            if (
                row.lease_owner != worker_id
                or row.lease_until is None
                or row.lease_until <= now
                or row.status not in _values(WAITING | {CallbackStatus.DIALING})
            ):
                raise LeaseLost(f"callback {callback_id}: {worker_id} no longer holds it")
            redial = row.status == CallbackStatus.DIALING.value
            if lease_seconds is not None:
                row.lease_until = now + timedelta(seconds=lease_seconds)
            row.attempts = attempt
            row.dial_started_at, row.dial_sid, row.dial_to = now, None, to
            self._change(
                session,
                row,
                now,
                CallbackStatus.DIALING,
                "dial_requested",
                attempt=attempt,
                worker=worker_id,
                to=to,
                redial=redial,
            )
            return _record(row)

    def dial_placed(
        self,
        callback_id: str,
        sid: str,
        now: datetime,
        *,
        adopted: bool = False,
        outcome_wait: timedelta = OUTCOME_WAIT,
    ) -> CallbackRecord:
        """Store the placed call's sid and release the worker's lease.

        The row stays ``dialing`` until the status webhook reports the outcome; if none comes
        within ``outcome_wait`` a worker reclaims it (recovering, with a sid). ``adopted``: the
        sid was found by asking Twilio after a lost response, not returned by our request.
        A stale call (the outcome already arrived) changes nothing.
        """
        now = _aware(now, "now")
        with self._transaction("dial_placed", callback_id) as session:
            row = self._locked(session, callback_id)
            if row.status != CallbackStatus.DIALING.value or row.dial_sid not in (None, sid):
                return _record(row)
            row.dial_sid = sid
            row.lease_owner, row.lease_until = None, now + outcome_wait
            _touch(row, now)
            event = "adopted" if adopted else "dial_placed"
            self._log(session, row, now, event, sid=sid, attempt=row.attempts)
            return _record(row)

    def record_outcome(
        self,
        callback_id: str,
        status: CallbackStatus,
        now: datetime,
        detail: Mapping[str, Any] | None = None,
        *,
        sid: str | None = None,
    ) -> CallbackRecord | None:
        """Apply what the placed call did; ``None`` for an unknown id.

        ``connected`` marks it answered (and whether on time); ``done`` ends it;
        ``no_answer``/``busy``/``failed``/``machine`` end the attempt and lead to ``retry``
        (due after the back-off) or ``gave_up``. An outcome for another attempt's ``sid``, or
        one the callback is past (webhooks are retried), changes nothing.
        """
        now, status = _aware(now, "now"), CallbackStatus(status)
        if status not in FAILED_ATTEMPT | {CallbackStatus.CONNECTED, CallbackStatus.DONE}:
            raise ValueError(f"{status} is not an outcome of a placed call")
        extra = _json(dict(detail or {}), "outcome detail")
        with self._transaction("record_outcome", callback_id) as session:
            row = session.scalars(self._select(callback_id)).one_or_none()
            if row is None:
                return None
            accepts = {CallbackStatus.DIALING.value} | (
                {CallbackStatus.CONNECTED.value} if status == CallbackStatus.DONE else set()
            )
            if row.status not in accepts or (sid and row.dial_sid not in (None, sid)):
                logger.info(
                    "callback outcome ignored",
                    extra={"callback_id": callback_id, "outcome": status, "state": row.status},
                )
                return _record(row)
            row.dial_sid = row.dial_sid or sid
            row.lease_owner = row.lease_until = None
            if status == CallbackStatus.DONE:
                self._change(session, row, now, status, "outcome", **extra)
            elif status == CallbackStatus.CONNECTED:
                row.connected_at = now
                row.on_time = kept_on_time(row.promised_at, now)
                self._change(session, row, now, status, "outcome", on_time=row.on_time, **extra)
            else:
                self._change(session, row, now, status, "outcome", attempt=row.attempts, **extra)
                retry_at = after_failed_attempt(
                    row.attempts, row.max_attempts, row.retry_after_minutes, now
                )
                if retry_at is None:
                    self._change(session, row, now, CallbackStatus.GAVE_UP, "gave_up")
                else:
                    row.due_at = retry_at
                    self._change(session, row, now, CallbackStatus.RETRY, "retry")
            return _record(row)

    def defer(
        self,
        callback_id: str,
        due_at: datetime,
        now: datetime,
        reason: str,
        worker_id: str | None = None,
    ) -> CallbackRecord:
        """Push a waiting callback to ``due_at`` (quiet hours, queue closed, nobody on shift).

        The promise stays as it was; the lease is released.

        Raises:
            LeaseLost: If ``worker_id`` is given and no longer holds it, or it is not waiting.
        """
        due_at, now = _aware(due_at, "due_at"), _aware(now, "now")
        with self._transaction("defer", callback_id) as session:
            row = self._locked(session, callback_id)
            if row.status not in _values(WAITING) or (
                worker_id is not None and row.lease_owner != worker_id
            ):
                raise LeaseLost(f"callback {callback_id} is {row.status}; not deferred")
            row.due_at = due_at
            row.lease_owner = row.lease_until = None
            _touch(row, now)
            self._log(session, row, now, "deferred", reason=reason, until=due_at.isoformat())
            return _record(row)

    def release(self, callback_id: str, worker_id: str, now: datetime) -> None:
        """Give back a claimed callback not yet dialed (a worker stopping early)."""
        now = _aware(now, "now")
        with self._transaction("release", callback_id) as session:
            row = self._locked(session, callback_id)
            if row.lease_owner == worker_id and row.status in _values(WAITING):
                row.lease_owner = row.lease_until = None
                _touch(row, now)

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, operation: str, callback_id: str | None) -> Iterator[Session]:
        """One write transaction; SQLite's takes the write lock before reading anything.

        A deferred SQLite transaction that reads and then writes fails at once ("database is
        locked") when another writer got there first; ``BEGIN IMMEDIATE`` waits its turn.
        """
        with self._store._write(operation, callback_id) as session:
            if not self._postgres:
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session

    def _select(self, callback_id: str) -> Select[CallbackRow]:
        query = select(CallbackRow).where(CallbackRow.id == callback_id)
        return query.with_for_update() if self._postgres else query

    def _locked(self, session: Session, callback_id: str) -> CallbackRow:
        row = session.scalars(self._select(callback_id)).one_or_none()
        if row is None:
            raise CallbackNotFound(f"no callback {callback_id}")
        return row

    @staticmethod
    def _require(row: CallbackRow, allowed: frozenset[CallbackStatus], wanted: str) -> None:
        if row.status not in _values(allowed):
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
            row.lease_owner = row.lease_until = None
        _touch(row, now)
        self._log(session, row, now, event, **detail)

    @staticmethod
    def _log(session: Session, row: CallbackRow, now: datetime, event: str, **detail: Any) -> None:
        session.add(
            CallbackTransitionRow(
                callback_id=row.id,
                at=now,
                status=row.status,
                event=event,
                detail=_json(detail, f"detail of {event}"),
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


def _touch(row: CallbackRow, now: datetime) -> None:
    row.updated_at = now
    row.version = row.version + 1


def _values(statuses: frozenset[CallbackStatus] | set[CallbackStatus]) -> builtins.list[str]:
    return sorted(status.value for status in statuses)


def _record(row: CallbackRow, steps: Sequence[CallbackTransitionRow] = ()) -> CallbackRecord:
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
        transitions=tuple(
            CallbackTransition(s.at, CallbackStatus(s.status), s.event, dict(s.detail))
            for s in steps
        ),
    )
