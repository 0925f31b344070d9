"""The calls of a period, counted: every share of docs/metrics.md about calls.

Three queries. :func:`count_calls` counts the period's calls in one pass, grouped by queue,
intent, reason and outcome (a few hundred groups), which :class:`CallCounts` then adds up per
queue, per intent, per reason and in total. The two parts that look at other rows are asked
apart, each as a semi-join the database can plan well: :func:`booked_counts` (handed-over calls
that became booked callbacks, taken out of the service level) and :func:`repeated` (contained
calls whose caller called again within 24 h).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal, not_, select
from sqlalchemy.orm import Session, aliased

from ivr.metrics.figures import IntentCount, ReasonCount, Share
from ivr.metrics.period import Period
from ivr.metrics.sql import plus_seconds, seconds_between
from ivr.metrics.targets import Targets
from ivr.store.schema import CallbackRow, CallRow

#: A caller calling again this soon after a call the bot resolved undoes the containment.
REPEAT_SECONDS = 24 * 3600
#: ``calls.outcome`` when the bot passed the caller on to people.
HANDOVER_OUTCOMES = ("transfer", "callback")


@dataclass(frozen=True)
class CallCounts:
    """Counts of calls (one group's, or summed): the parts every call share is made of."""

    calls: int = 0
    ended: int = 0
    resolved_by_bot: int = 0
    resolved_known_caller: int = 0  # of those, with a caller number (a repeat can be seen)
    hung_up_with_bot: int = 0
    handovers: int = 0  # outcome transfer or callback
    handed_over: int = 0  # a person was rung (transferred_at)
    answered: int = 0
    abandoned: int = 0
    short_abandons: int = 0
    service_level_calls: int = 0  # the service level's denominator ...
    service_level_met: int = 0  # ... and numerator (booked callbacks taken out by the caller)

    def __add__(self, other: CallCounts) -> CallCounts:
        return CallCounts(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(CallCounts))
        )

    def without(self, booked: Share) -> CallCounts:
        """These counts with ``booked`` (calls that became callbacks) out of the service level."""
        return replace(
            self,
            service_level_calls=self.service_level_calls - booked.denominator,
            service_level_met=self.service_level_met - booked.numerator,
        )

    @property
    def service_level(self) -> Share:
        """Answered within the target, of handed-over calls answered or abandoned (not short)."""
        return Share(self.service_level_met, self.service_level_calls)

    @property
    def abandoned_share(self) -> Share:
        """Hung up waiting for a person, of the calls handed to one."""
        return Share(self.abandoned, self.handed_over)

    @property
    def containment(self) -> Share:
        """Resolved by the bot, of the calls that ended."""
        return Share(self.resolved_by_bot, self.ended)

    @property
    def hung_up_with_bot_share(self) -> Share:
        """Hung up while talking to the bot, of the calls that ended."""
        return Share(self.hung_up_with_bot, self.ended)


@dataclass(frozen=True)
class Group:
    """The counts of the calls sharing a queue, an intent, a reason and an outcome."""

    queue: str | None
    intent: str | None
    reason: str | None
    outcome: str | None
    counts: CallCounts


def _in(period: Period, queue: str | None) -> list[ColumnElement[bool]]:
    """The period's calls (of ``queue`` if given)."""
    where = [CallRow.started_at >= period.start, CallRow.started_at < period.end]
    return where if queue is None else [*where, CallRow.queue == queue]


def count_calls(
    session: Session, period: Period, queue: str | None, targets: Targets
) -> list[Group]:
    """The period's calls (of ``queue`` if given), counted per group."""
    c = CallRow
    keys = (c.queue, c.intent, c.reason, c.outcome)
    resolved = c.resolved_by_bot.is_(True)
    conditions = [
        resolved,
        and_(resolved, c.caller.is_not(None)),
        and_(c.ended_at.is_not(None), c.outcome.is_(None), c.transferred_at.is_(None)),
        c.outcome.in_(HANDOVER_OUTCOMES),
        c.transferred_at.is_not(None),
        c.answered_at.is_not(None),
        c.abandoned.is_(True),
        _short_abandon(targets),
        _service_level_call(targets),
        _service_level_met(targets),
    ]
    query = (
        select(*keys, func.count(), func.count(c.ended_at), *map(_count_if, conditions))
        .where(*_in(period, queue))
        .group_by(*keys)
    )
    return [
        Group(row[0], row[1], row[2], row[3], CallCounts(*row[4:]))
        for row in session.execute(query)
    ]


def booked_counts(
    session: Session, period: Period, queue: str | None, targets: Targets
) -> dict[str | None, Share]:
    """Per queue: the service level's parts over handed-over calls that became callbacks."""
    c = CallRow
    booked = select(CallbackRow.call_id).where(
        CallbackRow.call_id.is_not(None),
        CallbackRow.created_at >= period.start,  # booked after its call started
    )
    query = (
        select(
            c.queue,
            _count_if(_service_level_met(targets)),
            _count_if(_service_level_call(targets)),
        )
        .where(*_in(period, queue), c.transferred_at.is_not(None), c.call_id.in_(booked))
        .group_by(c.queue)
    )
    return {q: Share(met, counted) for q, met, counted in session.execute(query)}


def repeated(session: Session, period: Period) -> int:
    """Contained calls with a caller number whose caller called again within 24 h."""
    c, later = CallRow, aliased(CallRow)
    again = exists(
        select(literal(1)).where(  # only the index (caller, started_at) is read
            later.caller == c.caller,
            later.started_at > c.started_at,
            later.started_at <= plus_seconds(c.started_at, REPEAT_SECONDS),
            # Implied by the two above; they let a hash join read only the calls near the period.
            later.started_at > period.start,
            later.started_at <= period.end + timedelta(seconds=REPEAT_SECONDS),
        )
    )
    query = select(func.count()).where(
        *_in(period, None), c.resolved_by_bot.is_(True), c.caller.is_not(None), again
    )
    return int(session.execute(query).scalar_one())


def _short_abandon(targets: Targets) -> ColumnElement[bool]:
    """Hung up waiting, sooner after the hand-over than the queue's short-abandon seconds."""
    c = CallRow
    waited = seconds_between(c.transferred_at, c.ended_at)
    return and_(c.abandoned.is_(True), waited < targets.short_abandon_sql(c.queue))


def _service_level_call(targets: Targets) -> ColumnElement[bool]:
    """Counted in the service level: handed over, then answered or abandoned (not short)."""
    c = CallRow
    gone = and_(c.abandoned.is_(True), not_(_short_abandon(targets)))
    return and_(c.transferred_at.is_not(None), c.answered_at.is_not(None) | gone)


def _service_level_met(targets: Targets) -> ColumnElement[bool]:
    """Answered within the queue's service-level seconds of the hand-over."""
    c = CallRow
    waited = seconds_between(c.transferred_at, c.answered_at)
    return and_(
        c.transferred_at.is_not(None),
        c.answered_at.is_not(None),
        waited <= targets.service_level_sql(c.queue),
    )


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.count().filter(condition)


def total(groups: Iterable[Group]) -> CallCounts:
    """Every group's counts added up."""
    return sum((g.counts for g in groups), CallCounts())


def by_queue(groups: Iterable[Group]) -> dict[str, CallCounts]:
    """Counts per queue (calls without a queue left out), in queue order."""
    queues: dict[str, CallCounts] = {}
    for group in groups:
        if group.queue is not None:
            queues[group.queue] = queues.get(group.queue, CallCounts()) + group.counts
    return dict(sorted(queues.items()))


def intents(groups: Iterable[Group]) -> tuple[IntentCount, ...]:
    """Calls per intent, most calls first (then by name, no intent last)."""
    per: dict[str | None, list[int]] = {}
    for group in groups:
        row = per.setdefault(group.intent, [0, 0, 0])
        row[0] += group.counts.calls
        row[1] += group.counts.resolved_by_bot
        row[2] += group.counts.handovers
    ordered = sorted(per.items(), key=lambda item: (-item[1][0], item[0] is None, item[0] or ""))
    return tuple(IntentCount(intent, *row) for intent, row in ordered)


def reasons(groups: Iterable[Group]) -> tuple[ReasonCount, ...]:
    """Hand-overs per reason, most first (then by name, no reason last)."""
    per: dict[str | None, list[int]] = {}
    for group in groups:
        if group.outcome in HANDOVER_OUTCOMES:
            row = per.setdefault(group.reason, [0, 0])
            row[HANDOVER_OUTCOMES.index(group.outcome)] += group.counts.calls
    ordered = sorted(per.items(), key=lambda item: (-sum(item[1]), item[0] is None, item[0] or ""))
    return tuple(ReasonCount(reason, *row) for reason, row in ordered)
