"""Pure decisions about callbacks: when to retry, when to give up, when nobody may be rung.

No IO and no clock: every function takes ``now``. The store asks :func:`after_failed_attempt`
what a failed attempt leads to and :func:`kept_on_time` about a connection, through
:data:`RULES` (``CallbackStore(store, RULES)``); the worker asks :func:`next_ring_time` whether
it may dial now.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from bot.callback_time import can_ring, snap_into_hours
from bot.flow.model import BusinessHours, OpeningInterval
from ivr.store import AttemptRules

#: A callback connected within this long of the moment promised to the caller was kept on time.
ON_TIME_WINDOW = timedelta(minutes=2)

#: How far ahead :func:`next_ring_time` looks for a moment when ringing is allowed.
HORIZON = timedelta(days=14)


def retry_delay(attempts: int, retry_after_minutes: Sequence[int]) -> timedelta:
    """The wait after the ``attempts``-th failed attempt (1-based); the last delay repeats."""
    if attempts < 1:
        raise ValueError(f"attempts={attempts}: a retry follows at least one attempt")
    if not retry_after_minutes:
        raise ValueError("retry_after_minutes is empty")
    index = min(attempts, len(retry_after_minutes)) - 1
    return timedelta(minutes=retry_after_minutes[index])


def after_failed_attempt(
    attempts: int, max_attempts: int, retry_after_minutes: Sequence[int], now: datetime
) -> datetime | None:
    """When to try again after attempt number ``attempts`` failed; ``None``: give up."""
    if attempts >= max_attempts:
        return None
    return now + retry_delay(attempts, retry_after_minutes)


def next_ring_time(
    now: datetime,
    hours: BusinessHours,
    quiet_hours: Sequence[OpeningInterval] = (),
    also: Callable[[datetime], bool] | None = None,
    horizon: timedelta = HORIZON,
) -> datetime | None:
    """``now`` if ringing is allowed, else the first whole minute when it is; ``None`` if never.

    ``also`` adds a condition, e.g. "an agent of the queue is on shift". Closed and quiet
    stretches are jumped in one step (:func:`snap_into_hours`: the next opening or end of quiet
    hours); minutes are scanned only while the line is open and ``also`` says no, so ``also``
    (which may be costly) is asked only about moments the line could ring.
    """
    if now.tzinfo is None:
        raise ValueError(f"now={now.isoformat()} is naive")

    def allowed(moment: datetime) -> bool:
        return can_ring(moment, hours, quiet_hours) and (also is None or also(moment))

    if allowed(now):
        return now
    moment = now.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = now + horizon
    while moment <= end:
        if not can_ring(moment, hours, quiet_hours):
            moment = snap_into_hours(moment, hours, tuple(quiet_hours)).astimezone(UTC)
            if moment > end or not can_ring(moment, hours, quiet_hours):
                return None  # the line never opens within the horizon
        if also is None or also(moment):
            return moment
        moment += timedelta(minutes=1)
    return None


def kept_on_time(promised_at: datetime, connected_at: datetime) -> bool:
    """Whether a callback connected within :data:`ON_TIME_WINDOW` of its promised moment."""
    return abs(connected_at - promised_at) <= ON_TIME_WINDOW


class CallbackRules:
    """The store's :class:`~ivr.store.AttemptRules`, answered by the functions above."""

    def after_failed_attempt(
        self, attempts: int, max_attempts: int, retry_after_minutes: Sequence[int], now: datetime
    ) -> datetime | None:
        """See :func:`after_failed_attempt`."""
        return after_failed_attempt(attempts, max_attempts, retry_after_minutes, now)

    def kept_on_time(self, promised_at: datetime, connected_at: datetime) -> bool:
        """See :func:`kept_on_time`."""
        return kept_on_time(promised_at, connected_at)


#: What ``CallbackStore(store, RULES)`` applies to placed calls' outcomes.
RULES: AttemptRules = CallbackRules()
