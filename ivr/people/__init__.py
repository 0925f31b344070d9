"""Who answers: the agents of each queue on shift (routing), or one number per queue (directory).

The queues and agents themselves are declared in the flow (``flows/people.yaml``, loaded by
:mod:`bot.flow.people`); routing only decides, given a clock reading passed in. Who is away or
busy now is read from the store by :mod:`ivr.people.roster` and passed to routing.
"""

from ivr.people.routing import agents_to_try, expected_wait_seconds, next_agent, queue_is_open

__all__ = ["agents_to_try", "expected_wait_seconds", "next_agent", "queue_is_open"]
