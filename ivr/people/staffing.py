"""Who to ring for a queue: the flow's agents on shift, else the ``IVR_AGENT_NUMBERS`` number.

A returning caller goes first to the agent who handled their last call (if that agent is on
shift and serves the queue); a call that rang out tries one more agent before a callback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.flow.model import Flow
from ivr.people import routing
from ivr.people.directory import AgentDirectory

#: Agents rung for one handover before the caller is offered a callback (the first + one more).
MAX_AGENTS_PER_CALL = 2


@dataclass(frozen=True)
class Person:
    """Someone to ring: an address (number, ``sip:``, ``client:``) and the agent id if known."""

    address: str
    agent: str | None = None


@dataclass(frozen=True)
class LastAgent:
    """Who handled the caller's previous call, and how long ago."""

    agent: str
    days_ago: float


class Staffing:
    """The people who answer the flow's queues, for one decision at ``now``."""

    def __init__(self, flow: Flow, directory: AgentDirectory) -> None:
        self.flow = flow
        self.directory = directory

    def first(self, queue: str, now: datetime, last: LastAgent | None = None) -> Person | None:
        """The person to ring first for ``queue``; ``None`` when nobody can answer."""
        if not self.flow.agents:
            number = self.directory.number_for(queue)
            return Person(number) if number else None
        agents = routing.agents_to_try(
            self.flow,
            queue,
            now,
            last.agent if last else None,
            last.days_ago if last else None,
        )
        return Person(agents[0].address, agents[0].id) if agents else None

    def next(self, queue: str, now: datetime, tried: tuple[str, ...]) -> Person | None:
        """Another agent for ``queue`` after ``tried`` (agent ids) rang out, within the limit."""
        if not self.flow.agents or len(tried) >= MAX_AGENTS_PER_CALL:
            return None
        agent = routing.next_agent(self.flow, queue, now, list(tried))
        return Person(agent.address, agent.id) if agent else None
