"""Pure routing decisions: who to ring for a queue now, and the expected wait.

No clock and no IO: ``now`` is an aware datetime passed in, answer times come from the
caller (the store of recent transfers), and so do the agents who cannot be rung now
(``unavailable``: away or offline in the console, or busy; :mod:`ivr.people.roster` reads them).
Agents are tried in the order the YAML lists them. Given the caller's ``language``, only agents
who speak it are rung (an agent who lists no ``languages`` speaks the flow's default one).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime

from bot.flow.model import Agent, Flow, Queue

#: How many recent answered transfers the expected wait is estimated from.
RECENT_ANSWERS = 10


def queue_is_open(flow: Flow, queue: str | None, now: datetime) -> bool:
    """Whether ``queue`` is staffed at ``now``: its own hours, else the flow's business hours."""
    return flow.queue_hours(queue).is_open(now)


def languages_of(flow: Flow, agent: Agent) -> tuple[str, ...]:
    """The languages ``agent`` takes calls in: their own list, else the flow's default."""
    if agent.languages:
        return agent.languages
    return (flow.default_language,) if flow.default_language else ()


def speaks(flow: Flow, agent: Agent, language: str | None) -> bool:
    """Whether ``agent`` can take a call in ``language`` (``None``: not known, anyone can)."""
    known = languages_of(flow, agent)
    return language is None or not known or language in known


def agent_language(flow: Flow, agent_id: str | None) -> str:
    """The language ``agent_id`` is spoken to in (their first); the flow's default if unknown."""
    agent = flow.agents.get(agent_id or "")
    known = languages_of(flow, agent) if agent is not None else ()
    return known[0] if known else flow.default_language


def _on_shift(flow: Flow, queue: str, now: datetime, language: str | None) -> Iterator[Agent]:
    """The agents serving ``queue`` who work at ``now`` and speak ``language``, in YAML order."""
    for agent in flow.agents.values():
        if queue in agent.queues and agent.on_shift(now) and speaks(flow, agent, language):
            yield agent


def agents_to_try(
    flow: Flow,
    queue: str,
    now: datetime,
    last_agent_id: str | None,
    recent_agent_days_ago: float | None,
    unavailable: Collection[str] = frozenset(),
    language: str | None = None,
) -> list[Agent]:
    """Who to ring for ``queue`` at ``now``, in order.

    A returning caller's last agent comes first when that agent still serves the queue, is on
    shift, and the last call was at most the queue's ``same_agent_days`` ago; then every other
    agent of the queue on shift, in YAML order. Agents whose id is in ``unavailable`` are left
    out (a sticky agent who is away or busy too: the queue's next agent is tried). Whether the
    queue is open is a separate question (:func:`queue_is_open`); an empty list means nobody
    can take the call now. With ``language``, agents who do not speak it are left out too.
    """
    declared = flow.queues.get(queue)
    same_days = declared.same_agent_days if declared else Queue.same_agent_days
    last = flow.agents.get(last_agent_id or "")
    first = (
        [last]
        if last is not None
        and recent_agent_days_ago is not None
        and 0 <= recent_agent_days_ago <= same_days
        and queue in last.queues
        and last.on_shift(now)
        and last.id not in unavailable
        and speaks(flow, last, language)
        else []
    )
    others = (a for a in _on_shift(flow, queue, now, language) if a not in first)
    return first + [agent for agent in others if agent.id not in unavailable]


def next_agent(
    flow: Flow,
    queue: str,
    now: datetime,
    tried: Sequence[str],
    unavailable: Collection[str] = frozenset(),
    language: str | None = None,
) -> Agent | None:
    """The first agent of ``queue`` on shift at ``now`` (speaking ``language``) not yet tried."""
    return next(
        (
            agent
            for agent in _on_shift(flow, queue, now, language)
            if agent.id not in tried and agent.id not in unavailable
        ),
        None,
    )


def expected_wait_seconds(answer_seconds: Sequence[float]) -> int:
    """The wait a caller can expect, from recent answer times of a queue (oldest first).

    The estimator is the mean of the last :data:`RECENT_ANSWERS` answered transfers (seconds
    from the start of ringing to an agent answering), rounded up to a whole second: recent
    enough to follow a busy hour, long enough that one slow answer does not swing it.
    No data gives 0: without evidence of a wait, the caller is not put off a transfer.
    """
    recent = [max(0.0, seconds) for seconds in answer_seconds[-RECENT_ANSWERS:]]
    if not recent:
        return 0
    return math.ceil(sum(recent) / len(recent))
