"""The real-time view: calls with the bot and waiting now, agents' states, callbacks due soon."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.flow.model import Flow
from ivr.metrics.report import Table
from ivr.store import BusyKind, Presence
from ivr.store.records import OPEN
from ivr.store.schema import AgentBusyRow, CallbackRow, CallRow, PresenceRow

#: A call not ended this long after it started is a record a crashed process left behind.
LIVE_HORIZON = timedelta(hours=4)
#: "Callbacks due soon" looks this far ahead.
DUE_SOON = timedelta(hours=1)
#: The names of :meth:`Live.tables`, for the CSV export.
LIVE_TABLES = ("agents_now", "queues_now")
QUEUES_NOW = (
    "queue", "waiting", "oldest_wait_seconds", "with_agent", "agents_available",
    "callbacks_due_soon",
)  # fmt: skip


class AgentState(enum.StrEnum):
    """An agent now: busy (being rung, on a call) wins over what they said in the console."""

    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    AWAY = "away"
    OFFLINE = "offline"  # said so in the console
    OFF_SHIFT = "off_shift"  # not working now (their shift in the flow)


#: What an agent set in the console (never set: available, as routing takes it).
SAID = {Presence.AWAY.value: AgentState.AWAY, Presence.OFFLINE.value: AgentState.OFFLINE}


@dataclass(frozen=True)
class AgentNow:
    """One agent of the flow and their state."""

    agent: str
    name: str
    queues: tuple[str, ...]
    state: AgentState
    since: datetime | None  # when the state began (busy since, or presence changed)
    call_id: str | None  # the call they are rung for or on


@dataclass(frozen=True)
class Waiting:
    """A caller waiting for a person: rung since ``since``."""

    call_id: str
    queue: str | None
    since: datetime
    seconds: float


@dataclass(frozen=True)
class QueueNow:
    """One queue now."""

    queue: str
    waiting: int  # callers being rung for
    oldest_wait_seconds: float | None
    with_agent: int
    agents_available: int
    callbacks_due_soon: int  # open and due within the hour (overdue included)


@dataclass(frozen=True)
class Live:
    """The line at ``at`` (docs/metrics.md, "Real-time view")."""

    at: datetime
    with_bot: int  # talking to the bot (booking a callback included)
    booking: int  # of those, booking a callback
    waiting: int  # a person is being rung
    with_agent: int
    agents: tuple[AgentNow, ...]
    callbacks_due_soon: int  # open and due within the hour, overdue included
    callbacks_overdue: int  # of those, due before now
    oldest_waiting: Waiting | None
    queues: tuple[QueueNow, ...]

    def agents_in(self, state: AgentState) -> int:
        """How many of the flow's agents are in ``state``."""
        return sum(agent.state is state for agent in self.agents)

    def tables(self) -> dict[str, Table]:
        """The agents and the queues now, for CSV (named as :data:`LIVE_TABLES`)."""
        agents_now, queues_now = LIVE_TABLES
        return {
            agents_now: (
                ("agent", "name", "queues", "state", "since", "call_id"),
                [
                    (a.agent, a.name, " ".join(a.queues), a.state.value, a.since, a.call_id)
                    for a in self.agents
                ],
            ),
            queues_now: (
                QUEUES_NOW,
                [
                    (
                        q.queue,
                        q.waiting,
                        q.oldest_wait_seconds,
                        q.with_agent,
                        q.agents_available,
                        q.callbacks_due_soon,
                    )
                    for q in self.queues
                ],
            ),
        }


def live_view(session: Session, now: datetime, flow: Flow) -> Live:
    """Read the line's state at ``now``."""
    rows = session.execute(
        select(CallRow.stage, CallRow.queue, func.count(), func.min(CallRow.transferred_at))
        .where(
            CallRow.started_at >= now - LIVE_HORIZON,
            CallRow.started_at <= now,
            CallRow.ended_at.is_(None),
        )
        .group_by(CallRow.stage, CallRow.queue)
    )
    stages = [(stage, queue, int(n), since) for stage, queue, n, since in rows]
    count: Counter[str | None] = Counter()
    for stage, _, n, _ in stages:
        count[stage] += n
    agents = _agents(session, now, flow)
    due, overdue = _callbacks_due(session, now)
    oldest = _oldest_waiting(session, now)
    names = sorted(set(flow.queues) | {q for _, q, _, _ in stages if q} | set(due))
    queues = tuple(_queue_now(name, stages, agents, due, now) for name in names)
    return Live(
        at=now,
        with_bot=count["bot"] + count["booking"],
        booking=count["booking"],
        waiting=count["ringing"],
        with_agent=count["agent"],
        agents=agents,
        callbacks_due_soon=sum(due.values()),
        callbacks_overdue=overdue,
        oldest_waiting=oldest,
        queues=queues,
    )


def _queue_now(
    name: str,
    stages: list[tuple[str | None, str | None, int, datetime | None]],
    agents: tuple[AgentNow, ...],
    due: Counter[str],
    now: datetime,
) -> QueueNow:
    ringing = [(n, since) for stage, q, n, since in stages if q == name and stage == "ringing"]
    oldest = min((since for _, since in ringing if since is not None), default=None)
    return QueueNow(
        queue=name,
        waiting=sum(n for n, _ in ringing),
        oldest_wait_seconds=(now - oldest).total_seconds() if oldest else None,
        with_agent=sum(n for stage, q, n, _ in stages if q == name and stage == "agent"),
        agents_available=sum(a.state is AgentState.AVAILABLE and name in a.queues for a in agents),
        callbacks_due_soon=due[name],
    )


def _agents(session: Session, now: datetime, flow: Flow) -> tuple[AgentNow, ...]:
    presence = {row.agent: row for row in session.scalars(select(PresenceRow))}
    busy = {
        row.agent: row
        for row in session.scalars(select(AgentBusyRow).where(AgentBusyRow.until > now))
    }
    found = []
    for agent in flow.agents.values():
        said = presence.get(agent.id)
        state = SAID.get(said.status if said else "", AgentState.AVAILABLE)
        since, call_id = (said.changed_at if said else None), None
        if agent.id in busy:
            row = busy[agent.id]
            ringing = row.kind == BusyKind.RINGING.value
            state = AgentState.RINGING if ringing else AgentState.ON_CALL
            since, call_id = row.since, row.call_id
        elif state is AgentState.AVAILABLE and not agent.on_shift(now):
            state = AgentState.OFF_SHIFT
        found.append(AgentNow(agent.id, agent.name, agent.queues, state, since, call_id))
    return tuple(found)


def _callbacks_due(session: Session, now: datetime) -> tuple[Counter[str], int]:
    """Open callbacks due within :data:`DUE_SOON` per queue, and how many are overdue."""
    rows = session.execute(
        select(
            CallbackRow.queue,
            func.count(),
            func.coalesce(func.sum(case((CallbackRow.due_at < now, 1), else_=0)), 0),
        )
        .where(
            CallbackRow.status.in_(sorted(status.value for status in OPEN)),
            CallbackRow.due_at < now + DUE_SOON,
        )
        .group_by(CallbackRow.queue)
    ).all()
    due = Counter({queue: int(n) for queue, n, _ in rows})
    return due, sum(int(late) for _, _, late in rows)


def _oldest_waiting(session: Session, now: datetime) -> Waiting | None:
    row = session.execute(
        select(CallRow.call_id, CallRow.queue, CallRow.transferred_at)
        .where(
            CallRow.started_at >= now - LIVE_HORIZON,
            CallRow.started_at <= now,
            CallRow.ended_at.is_(None),
            CallRow.stage == "ringing",
            CallRow.transferred_at.is_not(None),
        )
        .order_by(CallRow.transferred_at, CallRow.call_id)
        .limit(1)
    ).first()
    if row is None or row.transferred_at is None:
        return None
    since = row.transferred_at
    return Waiting(row.call_id, row.queue, since, (now - since).total_seconds())
