"""Who answers: the agents of each queue on shift (routing), or one number per queue (directory).

The queues and agents themselves are declared in the flow (``flows/people.yaml``, loaded by
:mod:`bot.flow.people`); routing only decides, given a clock reading passed in. Who is away or
busy now is read from the store by :mod:`ivr.people.roster` and passed to routing. Agents are
rung only for callers whose language they speak; what they hear first is worded in their own
language by :mod:`ivr.people.whispers`.
"""

from ivr.people.routing import (
    agent_language,
    agents_to_try,
    expected_wait_seconds,
    languages_of,
    next_agent,
    queue_is_open,
    speaks,
)

__all__ = [
    "agent_language",
    "agents_to_try",
    "expected_wait_seconds",
    "languages_of",
    "next_agent",
    "queue_is_open",
    "speaks",
]
