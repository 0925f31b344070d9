"""The shapes of the figures: shares, distributions, and the rows of the dashboard's tables.

Every share keeps its numerator and denominator (a page shows "412 of 530"); every distribution
keeps its histogram (a chart) beside its percentiles. How each is computed is in
docs/metrics.md.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Seconds from hand-over to answer: the edges of the chart's bars (the last one is open).
HANDOVER_EDGES: tuple[float, ...] = (0, 5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300)
#: Seconds from call start to answer (the bot's conversation comes first).
START_EDGES: tuple[float, ...] = (0, 15, 30, 45, 60, 90, 120, 180, 240, 300, 450, 600)


@dataclass(frozen=True)
class Share:
    """``numerator`` of ``denominator``; ``value`` is ``None`` when there is nothing to count."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """The share between 0 and 1, or ``None`` for 0 of 0."""
        return self.numerator / self.denominator if self.denominator else None

    def __add__(self, other: Share) -> Share:
        return Share(self.numerator + other.numerator, self.denominator + other.denominator)


NONE = Share(0, 0)


@dataclass(frozen=True)
class Bucket:
    """``count`` durations of at least ``low`` and less than ``high`` seconds (``None``: no end)."""

    low: float
    high: float | None
    count: int

    @property
    def label(self) -> str:
        """``"5-10 s"``, or ``"300 s+"`` for the last bar."""
        if self.high is None:
            return f"{self.low:g} s+"
        return f"{self.low:g}-{self.high:g} s"


@dataclass(frozen=True)
class Distribution:
    """Durations in seconds: how many, their median and 90th percentile, and a histogram."""

    count: int
    p50: float | None
    p90: float | None
    buckets: tuple[Bucket, ...]

    @classmethod
    def of(cls, values: Iterable[float], edges: Sequence[float]) -> Distribution:
        """The distribution of ``values`` with bars at ``edges`` (values below the first skip)."""
        ordered = sorted(values)
        return cls(
            len(ordered),
            percentile(ordered, 50),
            percentile(ordered, 90),
            histogram(ordered, edges),
        )


def percentile(ordered: Sequence[float], pct: float) -> float | None:
    """Nearest rank: the smallest value with at least ``pct`` % of values at or below it."""
    if not ordered:
        return None
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def histogram(ordered: Sequence[float], edges: Sequence[float]) -> tuple[Bucket, ...]:
    """Counts of the sorted ``ordered`` per ``[edge, next edge)``, the last bar open-ended."""
    bounds = [*edges[1:], None]
    # In sorted values, bar i holds those from the first >= edges[i] to the first >= edges[i+1].
    starts = [bisect_left(ordered, edge) for edge in edges] + [len(ordered)]
    return tuple(
        Bucket(low, high, starts[i + 1] - starts[i])
        for i, (low, high) in enumerate(zip(edges, bounds, strict=True))
    )


@dataclass(frozen=True)
class QueueFigures:
    """One queue's row of the dashboard (calls whose ``calls.queue`` is ``queue``)."""

    queue: str
    calls: int  # calls the bot sent to this queue (transfer or callback)
    handed_over: int  # a person of the queue was rung
    answered: int
    service_level: Share
    abandoned: Share  # of handed_over: hung up waiting for a person
    short_abandons: int  # of those, within the queue's short-abandon seconds
    wait_p50: float | None  # hand-over to answer
    wait_p90: float | None
    callbacks_on_time: Share


@dataclass(frozen=True)
class IntentCount:
    """Calls per intent the bot acted on (``None``: it never acted on one)."""

    intent: str | None
    calls: int
    resolved_by_bot: int
    handed_over: int  # the bot passed the call on: a transfer or a callback


@dataclass(frozen=True)
class ReasonCount:
    """Why the bot passed calls on (``calls.reason`` of transfers and callbacks)."""

    reason: str | None
    transfers: int
    callbacks: int

    @property
    def total(self) -> int:
        """Transfers and callbacks together."""
        return self.transfers + self.callbacks


@dataclass(frozen=True)
class Misunderstood:
    """Similar utterances the bot did not understand (docs/metrics.md: what "similar" means).

    ``text`` is the normalised form every utterance of the group shares, ``example`` the one
    said most often as it was heard. ``call_ids`` are the newest calls of the group (at most
    :data:`CALL_LINKS`); ``calls`` counts them all.
    """

    text: str
    example: str
    turns: int
    calls: int
    asked_for_person: int  # turns after which the caller asked for a person
    call_ids: tuple[str, ...]


#: Call links kept per group of misunderstood utterances (the newest).
CALL_LINKS = 25
