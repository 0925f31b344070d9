"""The thresholds the figures are measured against, from the flow (or the defaults)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, case, literal

from bot.flow.model import EscalationPolicy, Flow, Queue

#: The defaults of ``bot.flow.model.Queue`` and ``EscalationPolicy``, for a report without a flow.
SERVICE_LEVEL_SECONDS = Queue.service_level_seconds
SHORT_ABANDON_SECONDS = Queue.short_abandon_seconds
CONFIDENCE_THRESHOLD = EscalationPolicy.confidence_threshold


@dataclass(frozen=True)
class Targets:
    """Per queue: answered within how many seconds, and hang-ups too short to count.

    A queue the flow does not declare uses the defaults (25 s and 5 s). ``confidence`` is the
    NLU confidence under which a turn counts as misunderstood (the flow's
    ``escalation.confidence_threshold``).
    """

    service_level: Mapping[str, int] = field(default_factory=dict)
    short_abandon: Mapping[str, int] = field(default_factory=dict)
    confidence: float = CONFIDENCE_THRESHOLD

    @classmethod
    def of(cls, flow: Flow | None) -> Targets:
        """The targets ``flow`` sets (the defaults without one)."""
        if flow is None:
            return cls()
        queues = flow.queues.values()
        return cls(
            {q.name: q.service_level_seconds for q in queues},
            {q.name: q.short_abandon_seconds for q in queues},
            flow.escalation.confidence_threshold,
        )

    def service_level_of(self, queue: str | None) -> int:
        """Seconds within which ``queue``'s calls should be answered."""
        return self.service_level.get(queue or "", SERVICE_LEVEL_SECONDS)

    def short_abandon_of(self, queue: str | None) -> int:
        """Seconds under which a hang-up in ``queue`` is not counted."""
        return self.short_abandon.get(queue or "", SHORT_ABANDON_SECONDS)

    def service_level_sql(self, queue: SQLColumnExpression[Any]) -> ColumnElement[Any]:
        """:meth:`service_level_of` as SQL over a queue column."""
        return _per_queue(queue, self.service_level, SERVICE_LEVEL_SECONDS)

    def short_abandon_sql(self, queue: SQLColumnExpression[Any]) -> ColumnElement[Any]:
        """:meth:`short_abandon_of` as SQL over a queue column."""
        return _per_queue(queue, self.short_abandon, SHORT_ABANDON_SECONDS)


def _per_queue(
    queue: SQLColumnExpression[Any], values: Mapping[str, int], default: int
) -> ColumnElement[Any]:
    different = {name: seconds for name, seconds in values.items() if seconds != default}
    if not different:
        return literal(default)
    return case(different, value=queue, else_=literal(default))
