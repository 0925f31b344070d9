"""Booked callbacks and their life cycle, in the same database as the calls.

Usage::

    callbacks = CallbackStore(store, rules)  # rules: ivr.callbacks.policy.RULES
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
When to retry and whether a connection was on time are not the store's to decide: it asks the
:class:`AttemptRules` it was given.

The class spans three modules: booking and reads here, the worker's side in
:mod:`ivr.store.callback_dispatch`, the locking and logging of rows in
:mod:`ivr.store.callback_table`.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ivr.store.callback_dispatch import OUTCOME_WAIT, CallbackDispatch
from ivr.store.callback_table import AttemptRules, to_record, values
from ivr.store.calls import Store
from ivr.store.database import aware, jsonable
from ivr.store.errors import (
    CallbackError,
    CallbackExists,
    CallbackNotFound,
    CallbackStateError,
    LeaseLost,
    StoreUnavailable,
)
from ivr.store.records import (
    FAILED_ATTEMPT,
    FINAL,
    OPEN,
    WAITING,
    CallbackRecord,
    CallbackStatus,
    CallbackTransition,
    Claim,
)
from ivr.store.schema import CallbackRow, CallbackTransitionRow

__all__ = [  # the records and errors too, as callers have imported them from here
    "FAILED_ATTEMPT",
    "FINAL",
    "OUTCOME_WAIT",
    "WAITING",
    "AttemptRules",
    "CallbackError",
    "CallbackExists",
    "CallbackNotFound",
    "CallbackRecord",
    "CallbackStateError",
    "CallbackStatus",
    "CallbackStore",
    "CallbackTransition",
    "Claim",
    "LeaseLost",
]


class CallbackStore(CallbackDispatch):
    """Callbacks in the database of ``store`` (its engine, its error handling); thread-safe.

    ``rules`` decides when a failed attempt is retried and whether a connection was on time.
    Booking and reads are here; the worker's side (claims, dialing, outcomes) comes from
    :class:`~ivr.store.callback_dispatch.CallbackDispatch`, the row plumbing from
    :class:`~ivr.store.callback_table.CallbackTable`.
    """

    def __init__(self, store: Store, rules: AttemptRules) -> None:
        super().__init__(store.database, rules)

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
        due_at, now = aware(due_at, "due_at"), aware(now, "now")
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
            promised_at=aware(promised_at, "promised_at") if promised_at else due_at,
            language=language,
            context=jsonable(dict(context or {}), "callback context"),
            sms=sms,
            attempts=0,
            max_attempts=max_attempts,
            retry_after_minutes=delays,
            status=CallbackStatus.SCHEDULED.value,
            created_at=now,
            updated_at=now,
            version=1,
        )
        return self._book(row, now, replaces=replaces, new_id=callback_id is not None)

    def cancel(self, callback_id: str, now: datetime, by: str = "caller") -> CallbackRecord:
        """Cancel a callback not placed yet; raises :class:`CallbackStateError` once it is."""
        now = aware(now, "now")
        with self._transaction("cancel", callback_id) as session:
            row = self._locked(session, callback_id)
            self._require(row, OPEN, "cancel it")
            self._unclaim(row)
            self._change(session, row, now, CallbackStatus.CANCELLED, "cancelled", by=by)
            return to_record(row)

    def move(
        self, callback_id: str, due_at: datetime, now: datetime, by: str = "caller"
    ) -> CallbackRecord:
        """Promise a callback not placed yet for another time (it is ``scheduled`` again)."""
        due_at, now = aware(due_at, "due_at"), aware(now, "now")
        with self._transaction("move", callback_id) as session:
            row = self._locked(session, callback_id)
            self._require(row, OPEN, "move it")
            self._unclaim(row)
            before = row.due_at
            row.due_at = row.promised_at = due_at
            self._change(
                session, row, now, CallbackStatus.SCHEDULED, "moved", by=by, was=before.isoformat()
            )
            return to_record(row)

    # -- an agent handling one by hand ----------------------------------------------------

    def claim(self, callback_id: str, agent: str, now: datetime) -> CallbackRecord:
        """``agent`` takes a waiting callback to handle it themselves; the worker leaves it.

        Raises:
            CallbackStateError: it is not waiting (placed, done, or claimed by someone else).
        """
        now = aware(now, "now")
        with self._transaction("claim", callback_id) as session:
            row = self._locked(session, callback_id)
            self._require(row, WAITING, "claim it")
            if (
                row.lease_owner is not None
                and row.lease_until is not None
                and row.lease_until > now
            ):
                raise CallbackStateError(
                    row.id, CallbackStatus(row.status), "claim it (a worker holds it)"
                )
            row.claimed_by, row.claimed_at = agent, now
            self._change(session, row, now, CallbackStatus.CLAIMED, "claimed", by=agent)
            return to_record(row)

    def complete(
        self, callback_id: str, agent: str, outcome: str, now: datetime, *, reached: bool
    ) -> CallbackRecord:
        """The agent who claimed it finished: ``outcome`` in their words; ``reached`` the caller.

        Reaching the caller counts as connecting (and as on time, within the promise's window).

        Raises:
            CallbackStateError: it is not claimed by ``agent``.
        """
        now = aware(now, "now")
        with self._transaction("complete", callback_id) as session:
            row = self._locked(session, callback_id)
            self._require_claimed_by(row, agent, "complete it")
            if reached:
                row.connected_at = now
                row.on_time = self._rules.kept_on_time(row.promised_at, now)
            self._change(
                session, row, now, CallbackStatus.DONE, "completed", by=agent, outcome=outcome,
                reached=reached,
            )  # fmt: skip
            return to_record(row)

    def unclaim(self, callback_id: str, agent: str, now: datetime) -> CallbackRecord:
        """The agent gives it back: waiting again, for the worker or another agent.

        Raises:
            CallbackStateError: it is not claimed by ``agent``.
        """
        now = aware(now, "now")
        with self._transaction("unclaim", callback_id) as session:
            row = self._locked(session, callback_id)
            self._require_claimed_by(row, agent, "give it back")
            self._unclaim(row)
            self._change(session, row, now, CallbackStatus.SCHEDULED, "unclaimed", by=agent)
            return to_record(row)

    def _require_claimed_by(self, row: CallbackRow, agent: str, wanted: str) -> None:
        self._require(row, frozenset({CallbackStatus.CLAIMED}), wanted)
        if row.claimed_by != agent:
            raise CallbackStateError(
                row.id, CallbackStatus(row.status), f"{wanted} (claimed by {row.claimed_by})"
            )

    @staticmethod
    def _unclaim(row: CallbackRow) -> None:
        row.claimed_by = row.claimed_at = None

    # -- reads ----------------------------------------------------------------------------

    def get(self, callback_id: str) -> CallbackRecord | None:
        """The callback with its transitions (oldest first), or ``None``."""
        with self._db.read("get callback") as session:
            row = session.get(CallbackRow, callback_id)
            if row is None:
                return None
            steps = session.scalars(
                select(CallbackTransitionRow)
                .where(CallbackTransitionRow.callback_id == callback_id)
                .order_by(CallbackTransitionRow.id)
            ).all()
            return to_record(row, steps)

    def pending_for_number(self, number: str) -> builtins.list[CallbackRecord]:
        """Callbacks to ``number`` not placed yet (waiting, or claimed by an agent), by time."""
        with self._db.read("pending_for_number") as session:
            rows = session.scalars(
                select(CallbackRow)
                .where(CallbackRow.number == number, CallbackRow.status.in_(values(OPEN)))
                .order_by(CallbackRow.due_at, CallbackRow.id)
            ).all()
            return [to_record(row) for row in rows]

    def list(
        self, status: CallbackStatus | None = None, limit: int = 50
    ) -> builtins.list[CallbackRecord]:
        """Up to ``limit`` callbacks (of one status, or all), by due time."""
        if limit < 0:
            raise ValueError(f"limit={limit} must not be negative")
        query = select(CallbackRow)
        if status is not None:
            query = query.where(CallbackRow.status == CallbackStatus(status).value)
        with self._db.read("list callbacks") as session:
            rows = session.scalars(
                query.order_by(CallbackRow.due_at, CallbackRow.id).limit(limit)
            ).all()
            return [to_record(row) for row in rows]

    def sids_in_use(self, sids: Sequence[str]) -> set[str]:
        """Which of these call sids are stored against some callback, now or in an earlier attempt.

        A new attempt clears the row's sid; the transitions keep every sid ever stored
        (``dial_placed``, ``adopted``, and ``outcome`` when the status webhook brought it). Only
        a worker that lost a request's answer asks, so the scan of the transitions is rare.
        """
        if not sids:
            return set()
        wanted = list(sids)
        logged = CallbackTransitionRow.detail["sid"].as_string()
        with self._db.read("sids_in_use") as session:
            current = session.scalars(
                select(CallbackRow.dial_sid).where(CallbackRow.dial_sid.in_(wanted))
            ).all()
            earlier = session.scalars(
                select(logged).where(
                    CallbackTransitionRow.event.in_(("dial_placed", "adopted", "outcome")),
                    logged.in_(wanted),
                )
            ).all()
            return {sid for sid in (*current, *earlier) if sid is not None}

    # -- plumbing -------------------------------------------------------------------------

    def _book(
        self, row: CallbackRow, now: datetime, *, replaces: str | None, new_id: bool
    ) -> CallbackRecord:
        """Store a new callback (cancelling the one it ``replaces``); its id must be new."""
        try:
            with self._transaction("schedule", row.id) as session:
                if replaces is not None:
                    old = self._locked(session, replaces)
                    self._require(old, WAITING, "replace it")
                    self._change(session, old, now, CallbackStatus.CANCELLED, "replaced", by=row.id)
                session.add(row)
                session.flush()
                self._log(session, row, now, "scheduled", call_id=row.call_id, queue=row.queue)
                return to_record(row)
        except StoreUnavailable as error:
            if isinstance(error.__cause__, IntegrityError) and new_id:
                raise CallbackExists(f"callback {row.id} is already stored") from None
            raise
