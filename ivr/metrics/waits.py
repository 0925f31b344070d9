"""Time to a person: from the call's start, and from the hand-over, to a person answering."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.metrics.figures import HANDOVER_EDGES, START_EDGES, Distribution
from ivr.metrics.period import Period
from ivr.metrics.sql import json_list, seconds_between
from ivr.store.schema import CallRow


class Waits:
    """The answered calls' waits in seconds, from the call's start and from the hand-over."""

    def __init__(self, rows: Iterable[tuple[str | None, float, float]]) -> None:
        self._all: list[tuple[float, float]] = []
        self._queues: dict[str | None, list[tuple[float, float]]] = {}
        for queue, start, handover in rows:
            self._all.append((start, handover))
            self._queues.setdefault(queue, []).append((start, handover))

    def from_start(self, queue: str | None = None) -> Distribution:
        """Call start to answer, of every answered call (or ``queue``'s)."""
        return Distribution.of((w[0] for w in self._of(queue)), START_EDGES)

    def from_handover(self, queue: str | None = None) -> Distribution:
        """A person rung to a person answering."""
        return Distribution.of((w[1] for w in self._of(queue)), HANDOVER_EDGES)

    def _of(self, queue: str | None) -> list[tuple[float, float]]:
        return self._all if queue is None else self._queues.get(queue, [])


def answered_waits(session: Session, period: Period, queue: str | None) -> Waits:
    """The waits of the period's calls a person answered (of ``queue`` if given)."""
    c = CallRow
    query = select(
        json_list(c.queue),
        json_list(seconds_between(c.started_at, c.answered_at)),
        json_list(seconds_between(c.transferred_at, c.answered_at)),
    ).where(
        c.started_at >= period.start,
        c.started_at < period.end,
        c.answered_at.is_not(None),
        c.transferred_at.is_not(None),
    )
    if queue is not None:
        query = query.where(c.queue == queue)
    queues, starts, handovers = session.execute(query).one()
    return Waits((q, float(s), float(h)) for q, s, h in zip(queues, starts, handovers, strict=True))
