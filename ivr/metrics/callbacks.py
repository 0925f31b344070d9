"""Callbacks kept on time: connected within two minutes of the time promised to the caller."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ivr.metrics.figures import Share
from ivr.metrics.period import Period
from ivr.store import CallbackStatus
from ivr.store.schema import CallbackRow

#: How late (or early) a callback may connect and still be on time: the callback policy's
#: ``ON_TIME_WINDOW`` (``ivr.callbacks.policy``, a layer above; a test keeps them equal).
ON_TIME_WINDOW = timedelta(minutes=2)


def callbacks_on_time(
    session: Session, period: Period, queue: str | None, now: datetime
) -> dict[str, Share]:
    """Per queue: callbacks on time, of those promised in the period whose window has closed.

    Counted: ``promised_at`` in the period and at least :data:`ON_TIME_WINDOW` before ``now``
    (it can no longer become on time), not cancelled. On time: ``callbacks.on_time``.
    """
    cb = CallbackRow
    query = (
        select(
            cb.queue,
            func.count(),
            func.coalesce(func.sum(case((cb.on_time.is_(True), 1), else_=0)), 0),
        )
        .where(
            cb.promised_at >= period.start,
            cb.promised_at < period.end,
            cb.promised_at <= now - ON_TIME_WINDOW,
            cb.status != CallbackStatus.CANCELLED.value,
        )
        .group_by(cb.queue)
    )
    if queue is not None:
        query = query.where(cb.queue == queue)
    return {q: Share(int(kept), int(promised)) for q, promised, kept in session.execute(query)}
