"""Who to ring for a queue: the flow's agents on shift, else the ``IVR_AGENT_NUMBERS`` number.

A returning caller goes first to the agent who handled their last call (if that agent is on
shift, serves the queue and is free); a call that rang out tries one more agent before a
callback. With a :class:`~ivr.people.roster.Roster`, agents who are away, offline or busy are
not rung now; whether a queue is staffed at some moment (:meth:`Staffing.staffed`, for future
ring times) asks shifts only. A staffing :meth:`~Staffing.speaking` the caller's language rings
only the agents who speak it (``IVR_AGENT_NUMBERS`` numbers declare no language: any).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from bot.flow.model import Flow
from ivr.people import routing
from ivr.people.directory import AgentDirectory
from ivr.people.roster import Roster

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
    """The people who answer the flow's queues, for one decision at ``now``.

    ``roster`` says who is away or busy (none without it); ``excluded`` adds agent ids this
    decision must skip (a reservation of them just failed); ``language`` is the call's, which
    every agent rung must speak (``None``: any agent; calls get theirs from :meth:`speaking`).
    """

    def __init__(
        self,
        flow: Flow,
        directory: AgentDirectory,
        roster: Roster | None = None,
        excluded: frozenset[str] = frozenset(),
        language: str | None = None,
    ) -> None:
        self.flow = flow
        self.directory = directory
        self.roster = roster
        self.excluded = excluded
        self.language = language

    def excluding(self, agents: Collection[str]) -> Staffing:
        """The same staffing, skipping ``agents`` too."""
        excluded = self.excluded | set(agents)
        return Staffing(self.flow, self.directory, self.roster, excluded, self.language)

    def speaking(self, language: str | None) -> Staffing:
        """The same staffing for a call in ``language``: only agents who speak it are rung.

        ``None`` (a call or callback whose language is not known) is the flow's default
        language, the one such a caller is spoken to in.
        """
        language = language or self.flow.default_language or None
        return Staffing(self.flow, self.directory, self.roster, self.excluded, language)

    def agent_language(self, agent: str | None) -> str:
        """The language agent ``agent`` hears whispers in (the flow's default if unknown)."""
        return routing.agent_language(self.flow, agent)

    def unavailable(self, now: datetime) -> frozenset[str]:
        """Agent ids not to ring at ``now``: away, offline, busy, or excluded."""
        found = self.roster.unavailable(now) if self.roster is not None else frozenset()
        return found | self.excluded

    def first(self, queue: str, now: datetime, last: LastAgent | None = None) -> Person | None:
        """The person to ring first for ``queue``; ``None`` when nobody can answer."""
        return next(iter(self.candidates(queue, now, last)), None)

    def candidates(self, queue: str, now: datetime, last: LastAgent | None = None) -> list[Person]:
        """Everyone who may be rung for ``queue`` at ``now``, in the order to try them."""
        if not self.flow.agents:
            number = self.directory.number_for(queue)
            return [Person(number)] if number else []
        agents = routing.agents_to_try(
            self.flow,
            queue,
            now,
            last.agent if last else None,
            last.days_ago if last else None,
            self.unavailable(now),
            self.language,
        )
        return [Person(agent.address, agent.id) for agent in agents]

    def next(self, queue: str, now: datetime, tried: tuple[str, ...]) -> Person | None:
        """Another agent for ``queue`` after ``tried`` (agent ids) rang out, within the limit."""
        if not self.flow.agents or len(tried) >= MAX_AGENTS_PER_CALL:
            return None
        unavailable = self.unavailable(now)
        agent = routing.next_agent(self.flow, queue, now, list(tried), unavailable, self.language)
        return Person(agent.address, agent.id) if agent else None

    def staffed(self, queue: str, moment: datetime) -> bool:
        """Whether anyone (speaking the language) serves ``queue`` at ``moment`` by shifts alone.

        Not today's presence: a future ring time is decided from shifts only.
        """
        if not self.flow.agents:
            return self.directory.number_for(queue) is not None
        agents = routing.agents_to_try(self.flow, queue, moment, None, None, (), self.language)
        return bool(agents)

    def agent_at(self, address: str) -> str | None:
        """The id of the flow's agent rung at ``address``, if one is."""
        return next((a.id for a in self.flow.agents.values() if a.address == address), None)
