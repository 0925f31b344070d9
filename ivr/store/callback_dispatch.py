"""The worker's side of the callback store: claims under a lease, dialing, outcomes.

Part of :class:`~ivr.store.CallbackStore` (which adds booking and reads); see
:mod:`ivr.store.callbacks` for the life cycle. What a failed attempt leads to and whether a
connection was on time are asked of the :class:`~ivr.store.AttemptRules` it was given.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from ivr.store.callback_table import CallbackTable, logger, release_lease, to_record, touch, values
from ivr.store.database import aware, jsonable
from ivr.store.errors import LeaseLost
from ivr.store.records import FAILED_ATTEMPT, WAITING, CallbackRecord, CallbackStatus, Claim
from ivr.store.schema import CallbackRow

#: How long a placed call may go without a final status before a worker treats it as lost.
OUTCOME_WAIT = timedelta(hours=1)


class CallbackDispatch(CallbackTable):
    """What workers and the status webhook do to callbacks; thread-safe."""

    def claim_due(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int = 10
    ) -> builtins.list[Claim]:
        """Lease up to ``limit`` due callbacks to ``worker_id`` for ``lease_seconds``.

        Due: ``scheduled``/``retry`` with ``due_at <= now`` and no live lease, and ``dialing``
        ones whose lease expired (their worker died or hung): those come back ``recovering``.
        Two workers never get the same callback while a lease lasts.
        """
        now = aware(now, "now")
        if limit <= 0:
            return []
        until = now + timedelta(seconds=lease_seconds)
        claims: builtins.list[Claim] = []
        with self._transaction("claim_due", None) as session:
            for row in session.scalars(self._due(now, limit)).all():
                recovering = row.status == CallbackStatus.DIALING.value
                previous = row.lease_owner
                row.lease_owner, row.lease_until = worker_id, until
                touch(row, now)
                if recovering:
                    self._log(session, row, now, "recovered", worker=worker_id, was=previous)
                claims.append(Claim(to_record(row), recovering))
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
        now = aware(now, "now")
        with self._transaction("dial_requested", callback_id) as session:
            row = self._locked(session, callback_id)
            if not _held(row, worker_id, now):
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
            return to_record(row)

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
        now = aware(now, "now")
        with self._transaction("dial_placed", callback_id) as session:
            row = self._locked(session, callback_id)
            if row.status != CallbackStatus.DIALING.value or row.dial_sid not in (None, sid):
                return to_record(row)
            row.dial_sid = sid
            row.lease_owner, row.lease_until = None, now + outcome_wait
            touch(row, now)
            event = "adopted" if adopted else "dial_placed"
            self._log(session, row, now, event, sid=sid, attempt=row.attempts)
            return to_record(row)

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
        now, status = aware(now, "now"), CallbackStatus(status)
        if status not in FAILED_ATTEMPT | {CallbackStatus.CONNECTED, CallbackStatus.DONE}:
            raise ValueError(f"{status} is not an outcome of a placed call")
        extra = jsonable(dict(detail or {}), "outcome detail")
        with self._transaction("record_outcome", callback_id) as session:
            row = session.scalars(self._select(callback_id)).one_or_none()
            if row is None:
                return None
            if not _accepts(row, status, sid):
                logger.info(
                    "callback outcome ignored",
                    extra={"callback_id": callback_id, "outcome": status, "state": row.status},
                )
                return to_record(row)
            if row.dial_sid is None and sid is not None:
                # The webhook names the call our worker never stored (it died before
                # dial_placed): keep it, so no later recovery takes this call for its own.
                row.dial_sid, extra = sid, {**extra, "sid": sid}
            release_lease(row)
            self._apply_outcome(session, row, status, now, extra)
            return to_record(row)

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
        due_at, now = aware(due_at, "due_at"), aware(now, "now")
        with self._transaction("defer", callback_id) as session:
            row = self._locked(session, callback_id)
            if row.status not in values(WAITING) or (
                worker_id is not None and row.lease_owner != worker_id
            ):
                raise LeaseLost(f"callback {callback_id} is {row.status}; not deferred")
            row.due_at = due_at
            release_lease(row)
            touch(row, now)
            self._log(session, row, now, "deferred", reason=reason, until=due_at.isoformat())
            return to_record(row)

    def release(self, callback_id: str, worker_id: str, now: datetime) -> None:
        """Give back a claimed callback not yet dialed (a worker stopping early)."""
        now = aware(now, "now")
        with self._transaction("release", callback_id) as session:
            row = self._locked(session, callback_id)
            if row.lease_owner == worker_id and row.status in values(WAITING):
                release_lease(row)
                touch(row, now)

    # -- plumbing -------------------------------------------------------------------------

    def _apply_outcome(
        self,
        session: Session,
        row: CallbackRow,
        status: CallbackStatus,
        now: datetime,
        extra: dict[str, Any],
    ) -> None:
        """Move ``row`` on after a placed call's outcome, asking the rules what follows."""
        if status == CallbackStatus.DONE:
            self._change(session, row, now, status, "outcome", **extra)
        elif status == CallbackStatus.CONNECTED:
            row.connected_at = now
            row.on_time = self._rules.kept_on_time(row.promised_at, now)
            self._change(session, row, now, status, "outcome", on_time=row.on_time, **extra)
        else:
            self._change(session, row, now, status, "outcome", attempt=row.attempts, **extra)
            retry_at = self._rules.after_failed_attempt(
                row.attempts, row.max_attempts, row.retry_after_minutes, now
            )
            if retry_at is None:
                self._change(session, row, now, CallbackStatus.GAVE_UP, "gave_up")
            else:
                row.due_at = retry_at
                self._change(session, row, now, CallbackStatus.RETRY, "retry")

    def _due(self, now: datetime, limit: int) -> Select[CallbackRow]:
        """What a worker may claim at ``now``, soonest first, skipping rows locked by others."""
        free = or_(CallbackRow.lease_until.is_(None), CallbackRow.lease_until <= now)
        due = or_(
            (CallbackRow.status.in_(values(WAITING))) & (CallbackRow.due_at <= now) & free,
            (CallbackRow.status == CallbackStatus.DIALING.value) & (CallbackRow.lease_until <= now),
        )
        query = select(CallbackRow).where(due).order_by(CallbackRow.due_at).limit(limit)
        return query.with_for_update(skip_locked=True) if self._db.is_postgres else query


def _accepts(row: CallbackRow, status: CallbackStatus, sid: str | None) -> bool:
    """Whether an outcome applies: to the attempt being dialed (or ``done`` after connecting)."""
    accepts = {CallbackStatus.DIALING.value}
    if status == CallbackStatus.DONE:
        accepts.add(CallbackStatus.CONNECTED.value)
    return row.status in accepts and not (sid and row.dial_sid not in (None, sid))


def _held(row: CallbackRow, worker_id: str, now: datetime) -> bool:
    """Whether ``worker_id`` holds a live lease on ``row``, waiting or being dialed."""
    return (
        row.lease_owner == worker_id
        and row.lease_until is not None
        and row.lease_until > now
        and row.status in values(WAITING | {CallbackStatus.DIALING})
    )
